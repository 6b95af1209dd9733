package postgressink_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/querytest"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func openStore(t testing.TB, url string, opts ...postgressink.Option) *postgressink.Store {
	t.Helper()
	s, err := postgressink.Open(context.Background(), url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		url := pgtest.URL(t)
		s, err := postgressink.Open(context.Background(), url)
		require.NoError(t, err)
		return sinktest.Harness{Sink: s, RefusesDoneContext: true, Read: func(t *testing.T) stagetrace.Batch {
			return readStore(t, url)
		}}
	})
}

// readStore returns every record of the database, read by a store of its
// own, as another process would, so that it works after Shutdown.
func readStore(t *testing.T, url string) stagetrace.Batch {
	t.Helper()
	ctx := context.Background()
	r, err := postgressink.Open(ctx, url)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	runs, err := r.Runs(ctx, query.RunFilter{})
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

// TestExecutorsAgree runs the differential corpus against PostgreSQL, the
// third executor after the in-memory one and SQLite: with the corpus's
// attributes not indexed, indexed, and indexed once the database holds
// spans.
func TestExecutorsAgree(t *testing.T) {
	corpusKeys := []string{"k", "gen_ai.usage.input_tokens", "name"}
	for _, c := range []struct {
		name string
		open func(t *testing.T, b stagetrace.Batch) query.Reader
	}{
		{"attrs-not-indexed", func(t *testing.T, b stagetrace.Batch) query.Reader {
			s := openStore(t, pgtest.URL(t))
			require.NoError(t, s.Write(context.Background(), b))
			return s
		}},
		{"attrs-indexed", func(t *testing.T, b stagetrace.Batch) query.Reader {
			s := openStore(t, pgtest.URL(t), postgressink.WithIndexedAttrs(corpusKeys...))
			require.NoError(t, s.Write(context.Background(), b))
			return s
		}},
		{"attrs-indexed-on-reopen", func(t *testing.T, b stagetrace.Batch) query.Reader {
			url := pgtest.URL(t)
			s := openStore(t, url)
			require.NoError(t, s.Write(context.Background(), b))
			require.NoError(t, s.Close())
			return openStore(t, url, postgressink.WithIndexedAttrs(corpusKeys...))
		}},
	} {
		t.Run(c.name, func(t *testing.T) { querytest.Agree(t, c.open) })
	}
}

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	_, err := postgressink.OpenReadOnly(ctx, url)
	require.ErrorIs(t, err, postgressink.ErrNotStore, "an empty database is not made a store")

	w := openStore(t, url)
	require.NoError(t, w.Write(ctx, stagetrace.Batch{Spans: sharedRuns(1, 3)}))
	r, err := postgressink.OpenReadOnly(ctx, url)
	require.NoError(t, err)
	defer r.Close()
	run, err := r.Run(ctx, "shared-00")
	require.NoError(t, err)
	require.Equal(t, 3, run.Spans)
	require.ErrorIs(t, r.Write(ctx, stagetrace.Batch{Spans: sharedRuns(1, 3)}), postgressink.ErrReadOnly)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE stagetrace.schema_version SET version = 99`)
	require.NoError(t, err)
	_, err = postgressink.OpenReadOnly(ctx, url)
	require.ErrorIs(t, err, postgressink.ErrSchemaTooNew)
	_, err = postgressink.Open(ctx, url)
	require.ErrorIs(t, err, postgressink.ErrSchemaTooNew)
}
