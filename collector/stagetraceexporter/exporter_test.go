package stagetraceexporter

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestMain(m *testing.M) { os.Exit(pgtest.MainCheckingLeaks(m)) }

func TestFactoryDefaults(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, component.MustNewType("stagetrace"), f.Type())
	assert.Equal(t, component.StabilityLevelAlpha, f.TracesStability())
	cfg := f.CreateDefaultConfig().(*Config)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	assert.Equal(t, exporterhelper.NewDefaultTimeoutConfig(), cfg.TimeoutConfig)
	assert.True(t, cfg.QueueConfig.HasValue())
	assert.True(t, cfg.RetryConfig.Enabled)
	assert.Nil(t, cfg.JSONL)
	assert.Nil(t, cfg.SQLite)
	assert.False(t, cfg.StageEvents)
	// The default config names no sink: it must be told where to write.
	err := confmap.Validate(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "jsonl")
	assert.Contains(t, err.Error(), "sqlite")
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	cfg := NewFactory().CreateDefaultConfig().(*Config)
	sub, err := cm.Sub("stagetrace")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, &JSONLConfig{Path: "stagetrace.jsonl"}, cfg.JSONL)

	cfg = NewFactory().CreateDefaultConfig().(*Config)
	sub, err = cm.Sub("stagetrace/full")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 10*time.Second, cfg.Timeout)
	assert.Equal(t, int64(500), cfg.QueueConfig.Get().QueueSize)
	assert.Equal(t, 60*time.Second, cfg.RetryConfig.MaxElapsedTime)
	off := int64(0)
	assert.Equal(t, &JSONLConfig{Path: "stagetrace.jsonl", MaxSizeBytes: 10 << 20, MaxBackups: 3, PreallocateBytes: &off}, cfg.JSONL)
	assert.Equal(t, &SQLiteConfig{Path: "stagetrace.db", TTL: 168 * time.Hour}, cfg.SQLite)
	assert.True(t, cfg.StageEvents)
	assert.Equal(t, []string{"genai", "openinference"}, cfg.Presets)

	cfg = NewFactory().CreateDefaultConfig().(*Config)
	sub, err = cm.Sub("stagetrace/prices")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.NotNil(t, cfg.Prices)
	assert.Equal(t, "EUR", cfg.Prices.Currency)
	require.Len(t, cfg.Prices.Models, 2)
	gpt := cfg.Prices.Models["gpt-4o"]
	require.NotNil(t, gpt.Input)
	require.NotNil(t, gpt.CacheRead)
	assert.Equal(t, 2.5, *gpt.Input)
	assert.Equal(t, 1.25, *gpt.CacheRead)
	assert.Nil(t, cfg.Prices.Models["gpt-4o-mini-*"].CacheRead)
}

// A price YAML cannot read as a number (1e400 overflows a float, so YAML
// calls it a string) gets an error that names the field and says what the
// value is, rather than "expected type 'float64', got unconvertible type
// 'string'".
func TestLoadConfigPriceNotANumber(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "bad_prices.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"out_of_range", []string{
			"prices.models[gpt-4.1-*].cache_read: want a price per million tokens, got -1e400, a number out of range",
			"prices.models[gpt-4o].input: want a price per million tokens, got 1e400, a number out of range",
		}},
		{"quoted", []string{`prices.models[gpt-4o].input: want a price per million tokens, got the string "2.5"`}},
		{"size_out_of_range", []string{"jsonl.max_size_bytes: want a whole number of bytes up to 9223372036854775807, got 1e+20"}},
		{"size_fraction", []string{"jsonl.max_size_bytes: want a whole number of bytes up to 9223372036854775807, got 1.5"}},
		{"preallocate_fraction", []string{"jsonl.preallocate_bytes: want a whole number of bytes up to 9223372036854775807, got 0.5"}},
		{"preallocate_string", []string{"preallocate_bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			sub, err := cm.Sub("stagetrace/" + tc.name)
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func price(f float64) *float64 { return &f }

// The exporter computes costs from its prices key: the collector path
// prices spans without a rules file.
func TestPricesComputeCost(t *testing.T) {
	cfg := sinkConfig(t)
	cfg.Presets = []string{"genai"}
	cfg.Prices = &PricesConfig{Models: map[string]ModelPriceConfig{"gpt-4o": {Input: price(2.5), Output: price(10)}}}
	require.NoError(t, cfg.Validate())
	prices, err := cfg.Prices.rulesPrices()
	require.NoError(t, err)
	set, err := ruleset.Load("", cfg.Presets, prices)
	require.NoError(t, err)

	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("chat gpt-4o")
	s.SetTraceID(pcommon.TraceID{1})
	s.SetSpanID(pcommon.SpanID{1})
	s.Attributes().PutStr("gen_ai.operation.name", "chat")
	s.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
	s.Attributes().PutInt("gen_ai.usage.input_tokens", 1000)
	s.Attributes().PutInt("gen_ai.usage.output_tokens", 100)
	b, _ := newWriter(mapping.Options{}, set).batch(td)
	require.Len(t, b.Spans, 1)
	cost, ok := b.Spans[0].Findings.Get(attributes.FindingCost)
	require.True(t, ok, "findings: %v", b.Spans[0].Findings)
	assert.InDelta(t, 0.0035, cost.AsFloat64(), 1e-12)
	currency, _ := b.Spans[0].Findings.Get(attributes.FindingCostCurrency)
	assert.Equal(t, "USD", currency.AsString())
}

func TestValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no sink", Config{}, "at least one sink"},
		{"postgres url", Config{Postgres: &PostgresConfig{URL: "db.internal"}}, "postgres.url"},
		{"jsonl path", Config{JSONL: &JSONLConfig{}}, "jsonl.path"},
		{"jsonl size", Config{JSONL: &JSONLConfig{Path: "x", MaxSizeBytes: -1}}, "jsonl.max_size_bytes"},
		{"jsonl backups", Config{JSONL: &JSONLConfig{Path: "x", MaxBackups: -1}}, "jsonl.max_backups"},
		{"jsonl preallocation", Config{JSONL: &JSONLConfig{Path: "x", PreallocateBytes: new(int64(-1))}}, "jsonl.preallocate_bytes: must not be negative, got -1"},
		{"sqlite path", Config{SQLite: &SQLiteConfig{}}, "sqlite.path"},
		{"sqlite ttl", Config{SQLite: &SQLiteConfig{Path: "x", TTL: -time.Second}}, "sqlite.ttl"},
		{"rules file", Config{JSONL: &JSONLConfig{Path: "x"}, RulesFile: filepath.Join("testdata", "nope.yaml")}, "rules_file"},
		{"preset", Config{JSONL: &JSONLConfig{Path: "x"}, Presets: []string{"nope"}}, "presets[0]"},
		{"no priced model", Config{JSONL: &JSONLConfig{Path: "x"}, Prices: &PricesConfig{}}, "prices.models: must price at least one model"},
		{"missing output price", Config{JSONL: &JSONLConfig{Path: "x"}, Prices: &PricesConfig{
			Models: map[string]ModelPriceConfig{"m": {Input: price(1)}},
		}}, "prices.models[m]: give both input and output"},
		{"negative price", Config{JSONL: &JSONLConfig{Path: "x"}, Prices: &PricesConfig{
			Models: map[string]ModelPriceConfig{"m": {Input: price(-1), Output: price(1)}},
		}}, "prices.models[m]"},
		{"bad currency", Config{JSONL: &JSONLConfig{Path: "x"}, Prices: &PricesConfig{
			Currency: "dollars", Models: map[string]ModelPriceConfig{"m": {Input: price(1), Output: price(1)}},
		}}, "prices.currency"},
		{"prices beside a rules file", Config{JSONL: &JSONLConfig{Path: "x"}, RulesFile: filepath.Join("testdata", "rules.yaml"), Prices: &PricesConfig{
			Models: map[string]ModelPriceConfig{"m": {Input: price(1), Output: price(1)}},
		}}, "prices: give the price table in the rules file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field)
		})
	}
}

func sinkConfig(t *testing.T) *Config {
	t.Helper()
	dir := t.TempDir()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.JSONL = &JSONLConfig{Path: filepath.Join(dir, "out.jsonl")}
	cfg.SQLite = &SQLiteConfig{Path: filepath.Join(dir, "out.db"), TTL: time.Hour}
	cfg.StageEvents = true
	return cfg
}

func TestLifecycleTwice(t *testing.T) {
	f := NewFactory()
	cfg := sinkConfig(t)
	for range 2 {
		e, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, e.Shutdown(context.Background()))
	}
	// The exporterhelper wrapper must be shut down once (its retry sender
	// closes a channel); the sinks' shutdown under it is idempotent.
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{memsink.New()}))
	require.NoError(t, w.shutdown(context.Background()))
	require.NoError(t, w.shutdown(context.Background()))
}

func TestShutdownWithoutStart(t *testing.T) {
	f := NewFactory()
	e, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), sinkConfig(t))
	require.NoError(t, err)
	require.NoError(t, e.Shutdown(context.Background()))
}

func TestStartFailsOnBadPath(t *testing.T) {
	f := NewFactory()
	cfg := sinkConfig(t)
	cfg.SQLite.Path = filepath.Join(t.TempDir(), "missing", "dir", "x.db")
	e, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	err = e.Start(context.Background(), componenttest.NewNopHost())
	if err == nil {
		// Some SQLite builds create the file lazily; then nothing to check.
		require.NoError(t, e.Shutdown(context.Background()))
		t.Skip("sqlite opened a path in a missing directory")
	}
	assert.Contains(t, err.Error(), "sqlite")
	require.NoError(t, e.Shutdown(context.Background()))
}

// traces returns n spans of one trace, under one resource, the first the
// root and run.id "run-1".
func traces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("app")
	start := time.Unix(1_700_000_000, 0)
	for i := range n {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		if i == 0 {
			s.Attributes().PutStr("run.id", "run-1")
			s.Attributes().PutStr("run.stage", "load")
		} else {
			s.SetParentSpanID(pcommon.SpanID{1})
			s.Attributes().PutStr("run.id", "run-1")
		}
		s.SetName("span")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Second)))
	}
	return td
}

func TestExportToSinks(t *testing.T) {
	f := NewFactory()
	cfg := sinkConfig(t)
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	e, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, e.ConsumeTraces(context.Background(), traces(3)))
	require.NoError(t, e.Shutdown(context.Background()))

	// 3 spans, and stage_start + stage_end on the root.
	fh, err := os.Open(cfg.JSONL.Path)
	require.NoError(t, err)
	defer fh.Close()
	lines := 0
	for sc := bufio.NewScanner(fh); sc.Scan(); {
		lines++
	}
	assert.Equal(t, 5, lines)

	st, err := sqlitesink.OpenReadOnly(cfg.SQLite.Path)
	require.NoError(t, err)
	defer st.Close()
	spans, err := st.Trace(context.Background(), stagetrace.TraceID{1})
	require.NoError(t, err)
	assert.Len(t, spans, 3)
	stages := 0
	for _, s := range spans {
		assert.Equal(t, "run-1", s.RunID)
		if s.Stage == "load" {
			stages++
		}
	}
	assert.Equal(t, 1, stages, "only the root has a stage: the exporter does not inherit")
}

func TestInvalidIDsArePermanent(t *testing.T) {
	mem := memsink.New()
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{mem}))
	td := traces(2)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).SetSpanID(pcommon.SpanID{})
	err := w.write(context.Background(), td)
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Len(t, mem.Spans(), 1, "the valid span is written")
	require.NoError(t, w.shutdown(context.Background()))
	err = w.write(context.Background(), td)
	assert.True(t, consumererror.IsPermanent(err), "writes after shutdown are not retried")
}

func TestValueConversion(t *testing.T) {
	td := traces(1)
	s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	m := s.Attributes()
	m.PutStr("str", "x")
	m.PutInt("int", 7)
	m.PutDouble("dbl", 1.5)
	m.PutBool("bool", true)
	m.PutEmptyBytes("bytes").FromRaw([]byte{1, 2})
	m.PutEmpty("empty")
	sl := m.PutEmptySlice("strs")
	sl.AppendEmpty().SetStr("a")
	sl.AppendEmpty().SetStr("b")
	mixed := m.PutEmptySlice("mixed")
	mixed.AppendEmpty().SetStr("a")
	mixed.AppendEmpty().SetInt(1)
	mp := m.PutEmptyMap("map")
	mp.PutInt("k", 1)

	w := newWriter(mapping.Options{}, nil)
	b, _ := w.batch(td)
	require.Len(t, b.Spans, 1)
	a := b.Spans[0].Attrs
	get := func(k string) stagetrace.Value {
		v, ok := a.Get(k)
		require.True(t, ok, k)
		return v
	}
	assert.Equal(t, "x", get("str").AsString())
	assert.Equal(t, int64(7), get("int").AsInt64())
	assert.InDelta(t, 1.5, get("dbl").AsFloat64(), 0)
	assert.True(t, get("bool").AsBool())
	assert.Equal(t, []byte{1, 2}, get("bytes").AsBytes())
	assert.Equal(t, stagetrace.KindEmpty, get("empty").Kind())
	assert.Equal(t, []string{"a", "b"}, get("strs").AsStringSlice())
	assert.Equal(t, stagetrace.KindSlice, get("mixed").Kind())
	assert.Len(t, get("mixed").AsSlice(), 2)
	assert.Equal(t, stagetrace.KindMap, get("map").Kind())
	assert.Equal(t, "run-1", b.Spans[0].RunID)
	require.NotNil(t, b.Spans[0].Resource)
	assert.Equal(t, "svc", b.Spans[0].Resource.Attrs[0].Value.AsString())
}

func TestResourceShared(t *testing.T) {
	td := traces(1)
	rs := td.ResourceSpans().AppendEmpty()
	td.ResourceSpans().At(0).CopyTo(rs)
	w := newWriter(mapping.Options{}, nil)
	b, _ := w.batch(td)
	require.Len(t, b.Spans, 2)
	assert.Same(t, b.Spans[0].Resource, b.Spans[1].Resource)
	b2, _ := w.batch(traces(1))
	assert.Same(t, b.Spans[0].Resource, b2.Spans[0].Resource)
}

// A sink's warnings reach the collector's log, with the component's
// fields: here the JSON Lines sink cuts the torn last line an interrupted
// write left.
func TestSinkWarningsReachCollectorLog(t *testing.T) {
	cfg := sinkConfig(t)
	require.NoError(t, os.WriteFile(cfg.JSONL.Path, []byte(`{"type":"stage_span","run_id":"r`), 0o600))
	core, logs := observer.New(zap.DebugLevel)
	f := NewFactory()
	set := exportertest.NewNopSettings(f.Type())
	set.Logger = zap.New(core).With(zap.String("otelcol.component.id", "stagetrace"))
	e, err := f.CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, e.Shutdown(context.Background()))

	warned := logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("torn").All()
	require.Len(t, warned, 1, "logged: %v", logs.All())
	assert.Equal(t, "stagetrace", warned[0].ContextMap()["otelcol.component.id"])
	assert.Equal(t, cfg.JSONL.Path, warned[0].ContextMap()["path"])
}

// blockingSink fails each write after release is closed.
type blockingSink struct{ release chan struct{} }

func (s *blockingSink) Write(ctx context.Context, _ stagetrace.Batch) error {
	select {
	case <-s.release:
		return errors.New("disk full")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *blockingSink) Shutdown(context.Context) error { return nil }

// The sinks are written at once: a slow sink does not hold back the
// others, and its error names it.
func TestSlowSinkDoesNotDelayOthers(t *testing.T) {
	slow, mem := &blockingSink{release: make(chan struct{})}, memsink.New()
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{slow, mem}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.write(ctx, traces(2)) }()
	assert.Eventually(t, func() bool { return len(mem.Spans()) == 2 }, 5*time.Second, time.Millisecond,
		"the other sink is written while the slow one blocks")
	close(slow.release)
	err := <-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sink 0 (*stagetraceexporter.blockingSink) write: disk full")
	assert.False(t, consumererror.IsPermanent(err), "a sink's failure is retried")
	require.NoError(t, w.shutdown(context.Background()))
}
