package stagetraceexporter

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pdataview"
)

// batch maps td as write would, its parts joined into one batch, and
// returns how many spans were dropped for an invalid id.
func (w *writer) batch(td ptrace.Traces) (stagetrace.Batch, int) {
	var out stagetrace.Batch
	invalid := 0
	a := new(pdataview.Arrays)
	w.parts(td, &a, func(b stagetrace.Batch, _, inv int) bool {
		// Each part is mapped into the arrays of the last: kept, it is
		// copied, as a sink copies what it keeps.
		b = b.Clone()
		out.Spans = append(out.Spans, b.Spans...)
		out.Events = append(out.Events, b.Events...)
		invalid += inv
		return true
	})
	return out, invalid
}
