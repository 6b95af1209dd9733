package logexporter

import (
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/redact"
)

type config struct {
	sinks       []stagetrace.Sink
	fanout      *exporter.Fanout
	sinkTimeout time.Duration
	redactor    *redact.Redactor
}

// Option configures an Exporter.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithSinks adds sinks that receive every exported batch of log events.
// The Exporter owns them: its Shutdown shuts them down. It cannot be
// combined with WithFanout.
func WithSinks(sinks ...stagetrace.Sink) Option {
	return optionFunc(func(c config) config {
		c.sinks = append(c.sinks, sinks...)
		return c
	})
}

// WithFanout writes through f, typically the span exporter's
// (exporter.Exporter.Fanout), so that log events go to the sinks spans go
// to. The Exporter does not own f: its Shutdown flushes f but leaves it
// running, for its owner to shut down after the LoggerProvider.
func WithFanout(f *exporter.Fanout) Option {
	return optionFunc(func(c config) config {
		c.fanout = f
		return c
	})
}

// WithSinkTimeout bounds how long one sink may take to write or flush one
// batch, as exporter.WithSinkTimeout does; zero means
// exporter.DefaultSinkTimeout. It applies to the sinks of WithSinks; a
// fan-out given with WithFanout keeps its own.
func WithSinkTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		c.sinkTimeout = d
		return c
	})
}

// WithRedactor masks secrets and personal data in every batch, bodies
// included, before any sink sees it (see package redact).
func WithRedactor(r *redact.Redactor) Option {
	return optionFunc(func(c config) config {
		c.redactor = r
		return c
	})
}
