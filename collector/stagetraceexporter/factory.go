// Package stagetraceexporter is an OpenTelemetry Collector exporter that
// maps spans to stagetrace runs, stages, findings and events, and log
// records to log events, through the same mapping as the stagetrace SDK
// exporters, and writes them to a JSON Lines file and/or a SQLite store.
// Used in a traces and a logs pipeline, it writes both to the same sinks.
package stagetraceexporter

import (
	"context"
	"errors"
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
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap/exp/zapslog"

	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
)

// TypeStr is the component type of the exporter in collector
// configurations.
const TypeStr = "stagetrace"

// Stability is the stability level of the exporter's traces pipeline.
const Stability = component.StabilityLevelAlpha

// LogsStability is the stability level of the exporter's logs pipeline.
const LogsStability = component.StabilityLevelAlpha

// NewFactory returns the factory of the stagetrace exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		component.MustNewType(TypeStr),
		createDefaultConfig,
		exporter.WithTraces(createTraces, Stability),
		exporter.WithLogs(createLogs, LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		QueueConfig:   configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
	}
}

// sharedFor returns the exporter shared by the pipelines of cfg, made
// on the first call.
func sharedFor(set exporter.Settings, c *Config) (*sharedExporter, error) {
	prices, err := c.Prices.rulesPrices()
	if err != nil {
		return nil, err
	}
	rs, err := ruleset.Load(c.RulesFile, c.Presets, prices)
	if err != nil {
		return nil, err
	}
	return acquire(c, func() *stageExporter {
		// The sinks log through the collector's logger, with the
		// component's fields (kind, id, pipeline).
		return newStageExporter(c, rs, slog.New(zapslog.NewHandler(set.Logger.Core())))
	}), nil
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	c := cfg.(*Config)
	s, err := sharedFor(set, c)
	if err != nil {
		return nil, err
	}
	helper, err := exporterhelper.NewTraces(ctx, set, cfg, s.e.pushTraces, helperOptions(s, c)...)
	if err != nil {
		return nil, errors.Join(err, s.shutdown(ctx))
	}
	return &lifecycle{Traces: helper}, nil
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	s, err := sharedFor(set, c)
	if err != nil {
		return nil, err
	}
	helper, err := exporterhelper.NewLogs(ctx, set, cfg, s.e.pushLogs, helperOptions(s, c)...)
	if err != nil {
		return nil, errors.Join(err, s.shutdown(ctx))
	}
	return &logsLifecycle{Logs: helper}, nil
}

// helperOptions are the exporterhelper options of both pipelines: the
// shared sinks' start and shutdown, and the configured timeout, queue and
// retry.
func helperOptions(s *sharedExporter, c *Config) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithStart(s.start),
		exporterhelper.WithShutdown(s.shutdown),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.RetryConfig),
	}
}

// shutdownGuard makes an exporter safe to shut down more than once, as the
// Collector requires of every component: exporterhelper (v0.165.0 still)
// panics (close of a closed channel in its retry sender) on a second
// Shutdown, also after a Shutdown without Start, and accepts data after
// Shutdown without an error.
type shutdownGuard struct {
	shut     atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// refuse returns a permanent error once Shutdown has begun, so that the
// pipeline does not retry what it sends after.
func (g *shutdownGuard) refuse() error {
	if g.shut.Load() {
		return consumererror.NewPermanent(errNotStarted)
	}
	return nil
}

// shutdown calls stop once; calls after the first return the first call's
// result.
func (g *shutdownGuard) shutdown(ctx context.Context, stop func(context.Context) error) error {
	g.stopOnce.Do(func() {
		g.shut.Store(true)
		g.stopErr = stop(ctx)
	})
	return g.stopErr
}

// lifecycle is the traces exporter behind a shutdownGuard.
type lifecycle struct {
	exporter.Traces
	guard shutdownGuard
}

// ConsumeTraces refuses traces after Shutdown.
func (l *lifecycle) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if err := l.guard.refuse(); err != nil {
		return err
	}
	return l.Traces.ConsumeTraces(ctx, td)
}

// Shutdown shuts the exporter down once.
func (l *lifecycle) Shutdown(ctx context.Context) error {
	return l.guard.shutdown(ctx, l.Traces.Shutdown)
}

// logsLifecycle is the logs exporter behind a shutdownGuard.
type logsLifecycle struct {
	exporter.Logs
	guard shutdownGuard
}

// ConsumeLogs refuses logs after Shutdown.
func (l *logsLifecycle) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if err := l.guard.refuse(); err != nil {
		return err
	}
	return l.Logs.ConsumeLogs(ctx, ld)
}

// Shutdown shuts the exporter down once.
func (l *logsLifecycle) Shutdown(ctx context.Context) error {
	return l.guard.shutdown(ctx, l.Logs.Shutdown)
}
