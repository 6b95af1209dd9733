package stagetraceprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace/internal/pdataview"
	"github.com/stagetrace/stagetrace/rules"
)

// spanProcessor places the spans of each batch in a run and a stage; the
// placement is pdataview.Placer's, shared with the command's OTLP
// receiver.
type spanProcessor struct {
	placer *pdataview.Placer
}

func newSpanProcessor(c *Config, set *rules.Set) *spanProcessor {
	return &spanProcessor{placer: pdataview.NewPlacer(c.RunIDAttribute, c.RunIDResourceAttribute, set)}
}

func (p *spanProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	p.placer.Place(td)
	return td, nil
}
