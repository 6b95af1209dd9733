package stagetraceprocessor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFactoryDefaults(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, component.MustNewType("stagetrace"), f.Type())
	assert.Equal(t, component.StabilityLevelAlpha, f.TracesStability())
	cfg := f.CreateDefaultConfig().(*Config)
	assert.Equal(t, "run.id", cfg.RunIDAttribute)
	assert.Empty(t, cfg.RunIDResourceAttribute)
	assert.Empty(t, cfg.RulesFile)
	assert.Empty(t, cfg.Presets)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	// An empty config keeps the defaults.
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub("stagetrace")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, NewFactory().CreateDefaultConfig(), cfg)

	cfg = NewFactory().CreateDefaultConfig()
	sub, err = cm.Sub("stagetrace/custom")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	c := cfg.(*Config)
	assert.Equal(t, "session.run", c.RunIDAttribute)
	assert.Equal(t, "session.id", c.RunIDResourceAttribute)
	assert.Equal(t, []string{"genai"}, c.Presets)
}

func TestValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"empty run attribute", Config{}, "run_id_attribute"},
		{"missing rules file", Config{RunIDAttribute: "run.id", RulesFile: filepath.Join("testdata", "nope.yaml")}, "rules_file"},
		{"unknown preset", Config{RunIDAttribute: "run.id", Presets: []string{"bogus"}}, "presets[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field)
		})
	}
}

func TestLifecycleTwice(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData)
	for range 2 {
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, p.Shutdown(context.Background()))
	}
}

func TestCreateWithBadRulesFile(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.RulesFile = filepath.Join("testdata", "config.yaml") // not a rules file
	_, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.Error(t, err)
}

var traceA = pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

type spanSpec struct {
	name   string
	id     byte
	parent byte
	attrs  map[string]any
}

// fixture returns traces of one resource (resAttrs) and one scope holding
// the spans, in the given order.
func fixture(t *testing.T, resAttrs map[string]any, specs ...spanSpec) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(t, rs.Resource().Attributes().FromRaw(resAttrs))
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("app/pipeline")
	for _, sp := range specs {
		s := ss.Spans().AppendEmpty()
		s.SetName(sp.name)
		s.SetTraceID(traceA)
		s.SetSpanID(pcommon.SpanID{sp.id})
		if sp.parent != 0 {
			s.SetParentSpanID(pcommon.SpanID{sp.parent})
		}
		s.SetKind(ptrace.SpanKindInternal)
		require.NoError(t, s.Attributes().FromRaw(sp.attrs))
	}
	return td
}

func run(t *testing.T, cfg *Config, td ptrace.Traces) map[string]map[string]any {
	t.Helper()
	f := NewFactory()
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	require.NoError(t, p.Shutdown(context.Background()))
	require.Len(t, sink.AllTraces(), 1)
	out := map[string]map[string]any{}
	rss := sink.AllTraces()[0].ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				out[spans.At(k).Name()] = spans.At(k).Attributes().AsRaw()
			}
		}
	}
	return out
}

func defaultConfig() *Config { return NewFactory().CreateDefaultConfig().(*Config) }

func TestRunFromSpanAttribute(t *testing.T) {
	td := fixture(t, nil,
		spanSpec{name: "root", id: 1, attrs: map[string]any{"run.id": "r-1"}},
		spanSpec{name: "child", id: 2, parent: 1},
		spanSpec{name: "orphan", id: 3, parent: 9},
	)
	out := run(t, defaultConfig(), td)
	assert.Equal(t, "r-1", out["root"]["run.id"])
	assert.Equal(t, "r-1", out["child"]["run.id"], "inherited from the parent in the batch")
	assert.NotContains(t, out["orphan"], "run.id", "left unset: the exporter uses the trace id")
}

func TestRunFromCustomSpanAttribute(t *testing.T) {
	cfg := defaultConfig()
	cfg.RunIDAttribute = "session.run"
	td := fixture(t, nil, spanSpec{name: "root", id: 1, attrs: map[string]any{"session.run": "s-7"}})
	out := run(t, cfg, td)
	assert.Equal(t, "s-7", out["root"]["run.id"])
}

func TestRunFromResourceAttribute(t *testing.T) {
	cfg := defaultConfig()
	cfg.RunIDResourceAttribute = "session.id"
	td := fixture(t, map[string]any{"session.id": "sess-42", "service.name": "svc"},
		spanSpec{name: "root", id: 1},
		spanSpec{name: "own", id: 2, parent: 1, attrs: map[string]any{"run.id": "mine"}},
		spanSpec{name: "grandchild", id: 3, parent: 2},
	)
	out := run(t, cfg, td)
	assert.Equal(t, "sess-42", out["root"]["run.id"])
	assert.Equal(t, "mine", out["own"]["run.id"], "the span's own run id wins")
	assert.Equal(t, "mine", out["grandchild"]["run.id"], "a parent's run id beats the resource's")
}

func TestStageFromRuleAndInheritance(t *testing.T) {
	cfg := defaultConfig()
	cfg.RulesFile = filepath.Join("testdata", "rules.yaml")
	// Children come before their parents: the batch is indexed first.
	td := fixture(t, nil,
		spanSpec{name: "embed", id: 4, parent: 3},
		spanSpec{name: "search", id: 3, parent: 2},
		spanSpec{name: "retrieve docs", id: 2, parent: 1, attrs: map[string]any{"app.retrieval.count": 5}},
		spanSpec{name: "root", id: 1},
		spanSpec{name: "own stage", id: 5, parent: 2, attrs: map[string]any{"run.stage": "rank"}},
		spanSpec{name: "under own", id: 6, parent: 5},
	)
	out := run(t, cfg, td)
	assert.NotContains(t, out["root"], "run.stage")

	assert.Equal(t, "retrieval", out["retrieve docs"]["run.stage"])
	assert.NotContains(t, out["retrieve docs"], "run.stage_inherited", "a rule's stage is opened by the span")
	assert.NotContains(t, out["retrieve docs"], "finding.documents", "findings are the exporter's, on the mapped span")

	for _, name := range []string{"search", "embed"} {
		assert.Equal(t, "retrieval", out[name]["run.stage"], name)
		assert.Equal(t, true, out[name]["run.stage_inherited"], name)
	}
	assert.Equal(t, "rank", out["own stage"]["run.stage"])
	assert.NotContains(t, out["own stage"], "run.stage_inherited")
	assert.Equal(t, "rank", out["under own"]["run.stage"])
	assert.Equal(t, true, out["under own"]["run.stage_inherited"])
}

func TestParentCycleTerminates(t *testing.T) {
	td := fixture(t, nil,
		spanSpec{name: "a", id: 1, parent: 2, attrs: map[string]any{}},
		spanSpec{name: "b", id: 2, parent: 1, attrs: map[string]any{"run.stage": "s"}},
	)
	out := run(t, defaultConfig(), td)
	assert.Equal(t, "s", out["a"]["run.stage"])
	assert.Equal(t, true, out["a"]["run.stage_inherited"])
	assert.NotContains(t, out["b"], "run.stage_inherited")
}

// Presets alone place spans; the findings they read are derived by the
// exporter, once, on the mapped span, and are not written into pdata.
func TestPresetsOnly(t *testing.T) {
	cfg := defaultConfig()
	cfg.Presets = []string{"genai"}
	td := fixture(t, nil, spanSpec{name: "chat gpt-4o", id: 1, attrs: map[string]any{
		"gen_ai.operation.name":      "chat",
		"gen_ai.usage.input_tokens":  10,
		"gen_ai.usage.output_tokens": 3,
	}})
	out := run(t, cfg, td)
	assert.Equal(t, "chat", out["chat gpt-4o"]["run.stage"])
	for k := range out["chat gpt-4o"] {
		assert.False(t, strings.HasPrefix(k, "finding."), "the processor wrote finding %s", k)
	}
}

// TestPricesInProcessorRefused: a price table in the processor's
// configuration would compute nothing; Validate says where it belongs.
func TestPricesInProcessorRefused(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub("stagetrace/prices")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	err = confmap.Validate(cfg)
	require.ErrorIs(t, err, ruleset.ErrPricesInProcessor)
	assert.ErrorContains(t, err, "prices: the stagetrace processor computes no cost")
	assert.ErrorContains(t, err, "stagetrace exporter")
}

// TestRulesFilePricesWarned: a rules file with a prices section is valid
// (the exporter may share it), but the processor says at startup that its
// prices have no effect there.
func TestRulesFilePricesWarned(t *testing.T) {
	for _, tc := range []struct {
		file string
		warn bool
	}{
		{"rules_with_prices.yaml", true},
		{"", false},
	} {
		core, logs := observer.New(zap.WarnLevel)
		f := NewFactory()
		cfg := f.CreateDefaultConfig().(*Config)
		cfg.Presets = []string{"genai"}
		if tc.file != "" {
			cfg.RulesFile = filepath.Join("testdata", tc.file)
		}
		require.NoError(t, cfg.Validate())
		set := processortest.NewNopSettings(f.Type())
		set.Logger = zap.New(core)
		p, err := f.CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
		require.NoError(t, err)
		require.NoError(t, p.Shutdown(context.Background()))
		if !tc.warn {
			assert.Zero(t, logs.Len(), "no warning without prices")
			continue
		}
		require.Equal(t, 1, logs.Len())
		msg := logs.All()[0].Message
		assert.Contains(t, msg, "rules_file "+cfg.RulesFile)
		assert.Contains(t, msg, "has no effect in the stagetrace processor")
		assert.Contains(t, msg, "stagetrace exporter")
	}
}
