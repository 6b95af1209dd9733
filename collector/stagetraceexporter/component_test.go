package stagetraceexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/stagetrace/stagetrace/collector/internal/metadatatest"
)

// The factory says what metadata.yaml says: its type, class and
// stability; the tests configuration there is a valid one.
func TestMetadataMatchesFactory(t *testing.T) {
	f := NewFactory()
	md := metadatatest.Check(t, "exporter", f.Type(), f.TracesStability(), "traces", "logs")
	assert.Equal(t, f.TracesStability(), f.LogsStability(), "one stability level for both signals, as metadata.yaml lists them")
	sub, err := md.Sub("tests::config")
	require.NoError(t, err)
	cfg := f.CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
}

// The lifecycle mdatagen's generated tests check: create, start, consume,
// shut down; shut down without start; and shut down twice, which the
// Collector requires to be safe. Traces consumed after Shutdown are
// refused, permanently.
func TestComponentLifecycle(t *testing.T) {
	f := NewFactory()
	cfg := sinkConfig(t)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	ctx := context.Background()

	t.Run("shutdown without start", func(t *testing.T) {
		e, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		assert.NoError(t, e.Shutdown(ctx))
		assert.NoError(t, e.Shutdown(ctx), "second shutdown")
		err = e.ConsumeTraces(ctx, traces(1))
		assert.ErrorIs(t, err, errNotStarted)
		assert.True(t, consumererror.IsPermanent(err))
	})

	t.Run("start, consume, shutdown twice", func(t *testing.T) {
		e, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, e.Start(ctx, componenttest.NewNopHost()))
		require.NoError(t, e.ConsumeTraces(ctx, traces(3)))
		assert.NoError(t, e.Shutdown(ctx))
		assert.NoError(t, e.Shutdown(ctx), "second shutdown")
		err = e.ConsumeTraces(ctx, traces(1))
		assert.ErrorIs(t, err, errNotStarted)
		assert.True(t, consumererror.IsPermanent(err))
	})
}
