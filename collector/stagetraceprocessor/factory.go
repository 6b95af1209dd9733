// Package stagetraceprocessor is an OpenTelemetry Collector processor that
// places spans in a stagetrace run and stage: it sets the run.id, run.stage
// and run.stage_inherited attributes, and the attributes of the rules'
// start phase, as the stagetrace SDK processor does for spans of an
// instrumented Go program.
//
// The collector path has the SDK path's division of work. This processor
// places: it needs the whole batch, to hand a parent's run and stage down
// to its children. The stagetrace exporter maps each span once, pdata to
// model, and then applies the rules' end phase (findings, late attributes)
// and the costs on the mapped span, once per span, as the SDK exporter
// does with exporter.WithRules. Give the rules to both components, as
// setup gives one rules.Set to both SDK components; findings and costs are
// never written back into pdata.
package stagetraceprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
)

// TypeStr is the component type of the processor in collector
// configurations.
const TypeStr = "stagetrace"

// Stability is the stability level of the processor's traces pipeline.
const Stability = component.StabilityLevelAlpha

// LogsStability is the stability level of the processor's logs pipeline.
const LogsStability = component.StabilityLevelAlpha

// NewFactory returns the factory of the stagetrace processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		component.MustNewType(TypeStr),
		createDefaultConfig,
		processor.WithTraces(createTraces, Stability),
		processor.WithLogs(createLogs, LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{RunIDAttribute: string(attributes.RunID)}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := cfg.(*Config)
	set2, err := ruleset.Load(c.RulesFile, c.Presets, nil)
	if err != nil {
		return nil, err
	}
	if set2.HasPrices() {
		set.Logger.Warn(ruleset.ProcessorPricesWarning(c.RulesFile))
	}
	p := newSpanProcessor(c, set2)
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p := newSpanProcessor(cfg.(*Config), nil)
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}
