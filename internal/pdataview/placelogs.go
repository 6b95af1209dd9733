package pdataview

import (
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/stagetrace/stagetrace/attributes"
)

// PlaceLogs places log records in runs by what the collector can see of
// them, with the rules spans follow here: the record's own run.id (or the
// Placer's run attribute, copied into run.id), else the resource attribute
// the Placer reads. So a record lands in the run of the spans its
// resource's spans are placed in by the same attribute (a session id). A
// record's span is in another batch, if at all: its run and stage are not
// read; a record placed by nothing is filed by the exporter under its
// trace id. Stages come only from the record's own run.stage, which the Go
// SDK's logexporter.NewProcessor sets from the span it was logged in.
func (p *Placer) PlaceLogs(ld plog.Logs) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		resRun := ""
		if p.resourceRunAttr != "" {
			if v, ok := rl.Resource().Attributes().Get(p.resourceRunAttr); ok {
				resRun = v.AsString()
			}
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			records := sls.At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				attrs := records.At(k).Attributes()
				_, hasRun, _, _, run := p.own(attrs)
				if hasRun {
					continue
				}
				if run != "" {
					attrs.PutStr(string(attributes.RunID), run)
					continue
				}
				if resRun != "" {
					attrs.PutStr(string(attributes.RunID), resRun)
				}
			}
		}
	}
}
