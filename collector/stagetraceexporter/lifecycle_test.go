package stagetraceexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestHelperStillPanicsOnSecondShutdown shows why lifecycle exists: the
// pinned exporterhelper, with retries on, closes a channel on every
// Shutdown. When this test fails, exporterhelper guards itself and the
// lifecycle wrapper can go.
func TestHelperStillPanicsOnSecondShutdown(t *testing.T) {
	f := NewFactory()
	push := func(context.Context, ptrace.Traces) error { return nil }
	helper, err := exporterhelper.NewTraces(context.Background(), exportertest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), push,
		exporterhelper.WithRetry(configretry.NewDefaultBackOffConfig()))
	require.NoError(t, err)
	require.NoError(t, helper.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, helper.Shutdown(context.Background()))
	assert.Panics(t, func() { _ = helper.Shutdown(context.Background()) })
}

// TestGuardedShutdownTwiceAndWithoutStart runs the factory's exporter
// through what the raw helper cannot take.
func TestGuardedShutdownTwiceAndWithoutStart(t *testing.T) {
	f := NewFactory()
	set := exportertest.NewNopSettings(f.Type())

	started, err := f.CreateTraces(context.Background(), set, sinkConfig(t))
	require.NoError(t, err)
	require.NoError(t, started.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, started.Shutdown(context.Background()))
	assert.NotPanics(t, func() { assert.NoError(t, started.Shutdown(context.Background())) })
	assert.Error(t, started.ConsumeTraces(context.Background(), ptrace.NewTraces()), "traces after Shutdown are refused")

	never, err := f.CreateTraces(context.Background(), set, sinkConfig(t))
	require.NoError(t, err)
	assert.NotPanics(t, func() {
		assert.NoError(t, never.Shutdown(context.Background()))
		assert.NoError(t, never.Shutdown(context.Background()))
	})
}
