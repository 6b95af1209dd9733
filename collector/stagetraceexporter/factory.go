// Package stagetraceexporter is an OpenTelemetry Collector exporter that
// maps spans to stagetrace runs, stages, findings and events, through the
// same mapping as the stagetrace SDK exporter, and writes them to a JSON
// Lines file and/or a SQLite store.
package stagetraceexporter

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap/exp/zapslog"

	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
)

// TypeStr is the component type of the exporter in collector
// configurations.
const TypeStr = "stagetrace"

// Stability is the stability level of the exporter's traces pipeline.
const Stability = component.StabilityLevelAlpha

// NewFactory returns the factory of the stagetrace exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		component.MustNewType(TypeStr),
		createDefaultConfig,
		exporter.WithTraces(createTraces, Stability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		QueueConfig:   configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	c := cfg.(*Config)
	prices, err := c.Prices.rulesPrices()
	if err != nil {
		return nil, err
	}
	rs, err := ruleset.Load(c.RulesFile, c.Presets, prices)
	if err != nil {
		return nil, err
	}
	// The sinks log through the collector's logger, with the component's
	// fields (kind, id, pipeline).
	logger := slog.New(zapslog.NewHandler(set.Logger.Core()))
	e := newStageExporter(c, rs, logger)
	helper, err := exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces,
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.RetryConfig),
	)
	if err != nil {
		return nil, err
	}
	return &lifecycle{Traces: helper}, nil
}

// lifecycle makes the exporter safe to shut down more than once, as the
// Collector requires of every component: exporterhelper (v0.165.0 still) panics
// (close of a closed channel in its retry sender) on a second Shutdown,
// also after a Shutdown without Start, and accepts traces after Shutdown
// without an error.
type lifecycle struct {
	exporter.Traces

	shut     atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// ConsumeTraces refuses traces after Shutdown with a permanent error, so
// that the pipeline does not retry them.
func (l *lifecycle) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if l.shut.Load() {
		return consumererror.NewPermanent(errNotStarted)
	}
	return l.Traces.ConsumeTraces(ctx, td)
}

// Shutdown shuts the exporter down once; calls after the first return the
// first call's result.
func (l *lifecycle) Shutdown(ctx context.Context) error {
	l.stopOnce.Do(func() {
		l.shut.Store(true)
		l.stopErr = l.Traces.Shutdown(ctx)
	})
	return l.stopErr
}
