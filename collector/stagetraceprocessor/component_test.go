package stagetraceprocessor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// The factory says what metadata.yaml says: its type, class and stability.
func TestMetadataMatchesFactory(t *testing.T) {
	md, err := confmaptest.LoadConf(filepath.Join(".", "metadata.yaml"))
	require.NoError(t, err)
	f := NewFactory()
	assert.Equal(t, f.Type().String(), md.Get("type"))
	assert.Equal(t, "processor", md.Get("status::class"))
	assert.Equal(t, []any{"traces"}, md.Get("status::stability::alpha"))
	assert.Equal(t, component.StabilityLevelAlpha, f.TracesStability())
}

// The lifecycle mdatagen's generated tests check: create from the
// default configuration, start, consume, shut down; and shut down
// without start.
func TestComponentLifecycle(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	ctx := context.Background()

	p, err := f.CreateTraces(ctx, processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(ctx), "shutdown without start")

	next := new(consumertest.TracesSink)
	p, err = f.CreateTraces(ctx, processortest.NewNopSettings(f.Type()), cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx, componenttest.NewNopHost()))
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("span")
	require.NoError(t, p.ConsumeTraces(ctx, ptrace.NewTraces()))
	require.NoError(t, p.ConsumeTraces(ctx, td))
	require.NoError(t, p.Shutdown(ctx))
	assert.Equal(t, 1, next.SpanCount())
}
