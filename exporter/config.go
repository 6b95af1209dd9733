package exporter

import (
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/redact"
	"github.com/stagetrace/stagetrace/rules"
)

type config struct {
	sinks            []stagetrace.Sink
	stageEvents      bool
	sinkTimeout      time.Duration
	evaluationEvents bool
	rules            *rules.Set
	rulesSet         bool // WithRules was given, perhaps with nil
	redactor         *redact.Redactor
}

// Option configures an Exporter.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithSinks adds sinks that receive every exported batch. At least one sink
// is required. The exporter owns them: its Shutdown shuts them down.
func WithSinks(sinks ...stagetrace.Sink) Option {
	return optionFunc(func(c config) config {
		c.sinks = append(c.sinks, sinks...)
		return c
	})
}

// WithStageEvents synthesizes a stage_start event at the start and a
// stage_end event at the end of each span that opens a stage (a span whose
// stage was not inherited from its parent). Off by default.
func WithStageEvents() Option {
	return optionFunc(func(c config) config {
		c.stageEvents = true
		return c
	})
}

// WithSinkTimeout bounds how long one sink may take to write or flush one
// batch; the default is DefaultSinkTimeout (10 s), and zero restores it.
// A sink that takes longer is abandoned for that batch and its error names
// it; the other sinks are not delayed by it. The export call's own
// deadline, when sooner, applies as well. There is no unbounded setting:
// behind WithSyncer, or called with a context without deadline, a hung
// sink would otherwise hold the application forever.
func WithSinkTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		c.sinkTimeout = d
		return c
	})
}

// WithEvaluationEvents also emits each finding of a span as a
// gen_ai.evaluation.result event (gen_ai.evaluation.name, and
// gen_ai.evaluation.score.value for numbers or gen_ai.evaluation.score.label
// otherwise) at the span's end, so that tools reading the GenAI conventions
// see findings. Findings read from such events on the span are not emitted
// again. Off by default.
func WithEvaluationEvents() Option {
	return optionFunc(func(c config) config {
		c.evaluationEvents = true
		return c
	})
}

// WithRules applies set to each span at export (rules.Set.Apply): the End
// phase of its rules and presets, which sees attributes set late such as
// token counts, and the cost findings of its price table. Spans keep the
// stage, attributes and findings they already had.
func WithRules(set *rules.Set) Option {
	return optionFunc(func(c config) config {
		c.rules, c.rulesSet = set, true
		return c
	})
}

// WithRedactor masks secrets and personal data in every batch before any
// sink sees it (see package redact). Redaction runs after rules, so the
// attributes and findings rules derive are masked too.
func WithRedactor(r *redact.Redactor) Option {
	return optionFunc(func(c config) config {
		c.redactor = r
		return c
	})
}
