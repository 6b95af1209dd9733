package stagetraceexporter

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
)

// batch maps td as write would, its parts joined into one batch, and
// returns how many spans were dropped for an invalid id.
func (w *writer) batch(td ptrace.Traces) (stagetrace.Batch, int) {
	var out stagetrace.Batch
	invalid := 0
	w.parts(td, func(b stagetrace.Batch, _, inv int) bool {
		out.Spans = append(out.Spans, b.Spans...)
		out.Events = append(out.Events, b.Events...)
		invalid += inv
		return true
	})
	return out, invalid
}
