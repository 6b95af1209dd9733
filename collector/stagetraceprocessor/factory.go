// Package stagetraceprocessor is an OpenTelemetry Collector processor that
// places spans in a stagetrace run and stage: it sets run.id, run.stage,
// run.stage_inherited and finding.<name> attributes, as the stagetrace SDK
// processor and exporter would for spans of an instrumented Go program.
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

// NewFactory returns the factory of the stagetrace processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		component.MustNewType(TypeStr),
		createDefaultConfig,
		processor.WithTraces(createTraces, Stability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{RunIDAttribute: string(attributes.RunID)}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := cfg.(*Config)
	set2, err := ruleset.Load(c.RulesFile, c.Presets)
	if err != nil {
		return nil, err
	}
	p := newSpanProcessor(c, set2)
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}
