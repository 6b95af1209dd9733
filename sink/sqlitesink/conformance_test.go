package sqlitesink_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/sinktest"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		path := filepath.Join(t.TempDir(), "runs.db")
		s, err := sqlitesink.Open(path)
		require.NoError(t, err)
		return sinktest.Harness{Sink: s, RefusesDoneContext: true, Read: func(t *testing.T) stagetrace.Batch {
			return readStore(t, path)
		}}
	})
}

// readStore returns every record of the store at path, read by a store of
// its own, as another process would, so that it works after Shutdown.
func readStore(t *testing.T, path string) stagetrace.Batch {
	t.Helper()
	ctx := context.Background()
	r, err := sqlitesink.OpenReadOnly(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	runs, err := r.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	var all stagetrace.Batch
	for _, run := range runs {
		b, err := r.RunRecords(ctx, run.ID)
		require.NoError(t, err)
		all.Spans = append(all.Spans, b.Spans...)
		all.Events = append(all.Events, b.Events...)
	}
	return all
}
