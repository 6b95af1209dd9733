package processor

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// Option configures a Processor.
type Option func(*config)

// RunIDFunc returns the run id of a span that no other source placed in a
// run, or "" to leave it without one. ctx is the context the span was
// started from; s is the starting span.
type RunIDFunc func(ctx context.Context, s sdktrace.ReadOnlySpan) string

// config is the resolved set of options. It is read-only once New returns,
// so OnStart reads it without locking.
type config struct {
	// baggageRun and baggageStage report whether the run.id and run.stage
	// members of W3C baggage are trusted.
	baggageRun, baggageStage bool
	defaultRunID             string
	runIDFunc                RunIDFunc
	// rules, when set, run their start phase on each starting span.
	rules *rules.Set
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithBaggageKeys lists the W3C baggage members the processor trusts. A
// span that has no run (or stage) from its attributes, its context or its
// parent span takes it from the run.id (run.stage) baggage member, but only
// when that key is in the list; baggage is ignored entirely by default.
//
// Baggage arrives from other processes and crosses trust boundaries: any
// client that can reach a service can send a baggage header and so choose
// the run its spans land in. Allow these keys only on services whose
// callers are trusted, or where a wrong run is harmless. Calling
// WithBaggageKeys again adds to the list. Keys other than run.id and
// run.stage have no effect.
func WithBaggageKeys(keys ...string) Option {
	return func(c *config) {
		for _, k := range keys {
			switch k {
			case string(attributes.RunID):
				c.baggageRun = true
			case string(attributes.RunStage):
				c.baggageStage = true
			}
		}
	}
}

// WithDefaultRunID sets the run id of spans that no other source placed in
// a run. An empty id means no default: such spans stay without run.id and
// the exporter files them under their trace id.
func WithDefaultRunID(id string) Option {
	return func(c *config) { c.defaultRunID = id }
}

// WithRunIDFunc sets a function that names the run of spans no other
// source placed in a run. It is consulted before the id of
// WithDefaultRunID, which applies when the function returns "". It runs
// on the goroutine starting the span, so it must be cheap and safe for
// concurrent use.
func WithRunIDFunc(f RunIDFunc) Option {
	return func(c *config) { c.runIDFunc = f }
}

// WithRules runs the start phase of set on each span as it starts
// (rules.Set.Start): the stage of the first matching rule that yields one
// becomes the span's run.stage unless the span set its own, winning over a
// stage inherited from the context, the parent span or baggage, and the
// span opens that stage; the attributes the rules add are set on the span
// too, in the same SetAttributes call. Findings and costs are derived at
// export: give the exporter the same set with exporter.WithRules. Spans
// are then read at start even when no other source places them, which
// costs a little on every span. In wrapping mode a span the rules yield
// something for gets all its values at start, as in the default mode. A
// nil set, or one without start rules, has no effect.
func WithRules(set *rules.Set) Option {
	return func(c *config) { c.rules = set }
}
