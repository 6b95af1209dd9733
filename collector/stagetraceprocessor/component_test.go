package stagetraceprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/stagetrace/stagetrace/collector/internal/metadatatest"
)

// The factory says what metadata.yaml says: its type, class and stability.
func TestMetadataMatchesFactory(t *testing.T) {
	f := NewFactory()
	metadatatest.Check(t, "processor", f.Type(), f.TracesStability(), "traces", "logs")
	assert.Equal(t, f.TracesStability(), f.LogsStability())
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
