package stagetraceexporter

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
)

// jsonl.preallocate_bytes reaches the JSONL sink: 0 reserves nothing past
// the end of the file, unset reserves the sink's default where the file
// system can.
func TestPreallocateBytesReachesTheSink(t *testing.T) {
	probe, err := os.CreateTemp(t.TempDir(), "probe")
	require.NoError(t, err)
	reserves := syscall.Fallocate(int(probe.Fd()), 1, 0, 1<<20) == nil
	require.NoError(t, probe.Close())

	off := int64(0)
	for _, tc := range []struct {
		name     string
		prealloc *int64
		reserved bool
	}{
		{"off", &off, false},
		{"default", nil, reserves},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFactory()
			cfg := f.CreateDefaultConfig().(*Config)
			path := filepath.Join(t.TempDir(), "out.jsonl")
			cfg.JSONL = &JSONLConfig{Path: path, PreallocateBytes: tc.prealloc}
			cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]() // written when consumed
			e, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
			require.NoError(t, err)
			require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
			require.NoError(t, e.ConsumeTraces(context.Background(), tagged(0, 20)))

			var st syscall.Stat_t
			require.NoError(t, syscall.Stat(path, &st))
			require.Positive(t, st.Size)
			if tc.reserved {
				assert.GreaterOrEqual(t, st.Blocks*512, st.Size+1<<20, "blocks reserved past the end")
			} else {
				assert.Less(t, st.Blocks*512, st.Size+64<<10, "nothing reserved past the end")
			}
			require.NoError(t, e.Shutdown(context.Background()))
		})
	}
}
