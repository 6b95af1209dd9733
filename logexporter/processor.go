package logexporter

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/processor"
)

// Processor is an sdklog.Processor that places each log record in a run
// and a stage as it is emitted: it adds the run.id and run.stage
// attributes the record lacks, resolved from the context it was logged in
// by the span processor's rules (processor.Processor.Place). Register it
// before the processor that exports, which then sees the attributes. It
// exports nothing itself.
type Processor struct {
	spans *processor.Processor
	shut  atomic.Bool
}

var _ sdklog.Processor = (*Processor)(nil)

// NewProcessor returns a Processor placing records as spans processes
// them: give it the span processor registered in the TracerProvider, so
// that its options (trusted baggage keys, default run id) apply to logs
// too. A nil spans places by the default rules (processor.New()).
func NewProcessor(spans *processor.Processor) *Processor {
	if spans == nil {
		spans = processor.New()
	}
	return &Processor{spans: spans}
}

// OnEmit adds to r the run.id and run.stage that placing it in ctx gives
// and r does not carry already. A value r carries wins, as a span's own
// attributes do; an empty string counts as unset.
func (p *Processor) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if p.shut.Load() || r == nil {
		return nil
	}
	run, stage := p.spans.Place(ctx)
	if run == "" && stage == "" {
		return nil
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case attributes.RunID:
			if isSet(kv.Value) {
				run = ""
			}
		case attributes.RunStage:
			if isSet(kv.Value) {
				stage = ""
			}
		}
		return run != "" || stage != ""
	})
	switch {
	case run != "" && stage != "":
		r.AddAttributes(attributes.Run(run), attributes.Stage(stage))
	case run != "":
		r.AddAttributes(attributes.Run(run))
	case stage != "":
		r.AddAttributes(attributes.Stage(stage))
	}
	return nil
}

// isSet reports whether a run.id or run.stage value counts as set: a
// non-empty string, or a value of another type, as the span processor
// counts it.
func isSet(v attribute.Value) bool {
	return v.Type() != attribute.STRING || v.AsString() != ""
}

// Enabled returns false: the Processor exports nothing, so it gives the
// SDK no reason to make a record. The exporting processor decides.
func (p *Processor) Enabled(context.Context, sdklog.EnabledParameters) bool { return false }

// ForceFlush does nothing: the Processor holds nothing.
func (p *Processor) ForceFlush(ctx context.Context) error { return ctx.Err() }

// Shutdown stops the Processor; later records are left as they are. It
// does not shut the span processor down, which belongs to its
// TracerProvider. It returns ctx.Err() when ctx is done, and is idempotent.
func (p *Processor) Shutdown(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.shut.Store(true)
	return nil
}
