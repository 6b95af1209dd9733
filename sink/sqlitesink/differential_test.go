package sqlitesink_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/query/querytest"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// TestExecutorsAgree runs the differential corpus (package querytest)
// against the store and the in-memory executor, with the corpus's
// attributes not indexed, indexed, and indexed once the file holds spans.
func TestExecutorsAgree(t *testing.T) {
	corpusKeys := []string{"k", "gen_ai.usage.input_tokens", "name"}
	for _, c := range []struct {
		name string
		// open opens the store holding b: attributes indexed or not,
		// from the start or added to a file holding spans.
		open func(t *testing.T, b stagetrace.Batch) *sqlitesink.Store
	}{
		{"attrs-not-indexed", func(t *testing.T, b stagetrace.Batch) *sqlitesink.Store {
			s, _ := openStore(t)
			require.NoError(t, s.Write(context.Background(), b))
			return s
		}},
		{"attrs-indexed", func(t *testing.T, b stagetrace.Batch) *sqlitesink.Store {
			s, _ := openStore(t, sqlitesink.WithIndexedAttrs(corpusKeys...))
			require.NoError(t, s.Write(context.Background(), b))
			return s
		}},
		{"attrs-indexed-on-reopen", func(t *testing.T, b stagetrace.Batch) *sqlitesink.Store {
			s, path := openStore(t)
			require.NoError(t, s.Write(context.Background(), b))
			require.NoError(t, s.Close())
			s, err := sqlitesink.Open(path, sqlitesink.WithIndexedAttrs(corpusKeys...))
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			spans := querytest.Spans(rng, 240)
			b := stagetrace.Batch{Spans: spans, Events: querytest.Events(spans)}
			s := c.open(t, b)
			require.NoError(t, s.ForceFlush(context.Background()))
			querytest.Check(t, s, memquery.New(b), spans[0].TraceID.String(), rng)
		})
	}
}
