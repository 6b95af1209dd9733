package postgressink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/query/querytest"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// indexedRows returns, per attribute key, how many span_values rows the
// database holds, and the keys of attr_index.
func indexedRows(t *testing.T, url string) (map[string]int, []string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT key, count(*) FROM stagetrace.span_values WHERE source = 0 GROUP BY key`)
	require.NoError(t, err)
	counts := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(t, rows.Scan(&k, &n))
		counts[k] = n
	}
	require.NoError(t, rows.Err())
	rows, err = conn.Query(ctx, `SELECT name FROM stagetrace.attr_index ORDER BY name`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return counts, names
}

func TestIndexesAsTheSQLiteStore(t *testing.T) {
	assert.Equal(t, sqlitesink.DefaultIndexedAttrs(), postgressink.DefaultIndexedAttrs())

	ctx := context.Background()
	url := pgtest.URL(t)
	s := openStore(t, url)
	sp := stagetrace.StageSpan{RunID: "r", Name: "chat", StartTime: base, EndTime: base,
		Attrs: stagetrace.Attrs{
			{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")},
			{Key: "gen_ai.response.id", Value: stagetrace.StringValue("chatcmpl-1")},
			{Key: "http.response.status_code", Value: stagetrace.Int64Value(200)},
			{Key: "quote", Value: stagetrace.StringValue(`say "hi" – ok`)},
		},
		Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(12)}}}
	sp.TraceID[0], sp.SpanID[0] = 1, 1
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{sp}}))
	counts, names := indexedRows(t, url)
	assert.Equal(t, map[string]int{"gen_ai.request.model": 1}, counts, "only the indexed attribute keys have rows")
	want := slices.Sorted(slices.Values(postgressink.DefaultIndexedAttrs()))
	assert.Equal(t, want, names)

	// Filters on keys that are not indexed still find the span, numbers
	// compared as numbers.
	for _, where := range []string{`attr.gen_ai.response.id="chatcmpl-1"`, `attr.http.response.status_code>=200.0`,
		`attr.http.response.status_code<1000`, `attr.gen_ai.response.id~"^chatcmpl"`, `attr.gen_ai.response.id exists`,
		`attr.gen_ai.request.model="gpt-4o" and attr.http.response.status_code=200`,
		`attr.quote="say \"hi\" – ok"`, `attr.quote~"^say \"hi"`, `attr.quote~"– ok$"`} {
		got, err := s.Spans(ctx, query.SpanQuery{Where: query.MustParse(where)})
		require.NoError(t, err, where)
		assert.Len(t, got, 1, where)
	}
	for _, where := range []string{`attr.gen_ai.response.id="chatcmpl-2"`, `attr.http.response.status_code>200`,
		`attr.http.response.status_code="200"`, `attr.gen_ai.response.id!="chatcmpl-1"`, `attr.missing exists`,
		`attr.input_tokens exists`, `attr.quote="say"`} {
		got, err := s.Spans(ctx, query.SpanQuery{Where: query.MustParse(where)})
		require.NoError(t, err, where)
		assert.Empty(t, got, where)
	}
	runs, err := s.Runs(ctx, query.RunFilter{Where: query.MustParse(`attr.http.response.status_code=200`)})
	require.NoError(t, err)
	assert.Len(t, runs, 1)
}

// TestMigrateFromVersion1 makes a database of schema version 1, where
// every attribute key has its values in span_values, and opens it: it
// keeps indexing those keys, adds the configured ones, and answers as
// the in-memory executor does.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	rng := rand.New(rand.NewPCG(1, 2))
	spans := querytest.Spans(rng, 240)
	b := stagetrace.Batch{Spans: spans, Events: querytest.Events(spans)}
	var keys []string
	for i := range spans {
		for _, kv := range spans[i].Attrs {
			if !slices.Contains(keys, kv.Key) {
				keys = append(keys, kv.Key)
			}
		}
	}
	require.Greater(t, len(keys), 2)
	// Version 1 is version 2 without attr_index, with every key's rows.
	s := openStore(t, url, postgressink.WithIndexedAttrs(keys...))
	require.NoError(t, s.Write(ctx, b))
	require.NoError(t, s.Close())
	v1Counts, _ := indexedRows(t, url)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DROP TABLE stagetrace.attr_index; UPDATE stagetrace.schema_version SET version = 1`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	_, err = postgressink.OpenReadOnly(ctx, url)
	require.ErrorContains(t, err, "schema version 1")

	s = openStore(t, url, postgressink.WithIndexedAttrs("gen_ai.usage.input_tokens"))
	counts, names := indexedRows(t, url)
	assert.Equal(t, v1Counts, counts, "the rows of version 1 are kept")
	for k := range v1Counts {
		assert.Contains(t, names, k)
	}
	assert.Contains(t, names, "gen_ai.usage.input_tokens")
	querytest.Check(t, s, memquery.New(b), spans[0].TraceID.String(), rng)
}

// TestIndexAddedWhileWriting opens a store indexing a new key while
// another store, with the keys of before, writes: every span written
// before, during or after has the new key's row, so that the filter's
// index finds them all.
func TestIndexAddedWhileWriting(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	w := openStore(t, url)
	const batches, perBatch = 40, 25
	batch := func(i int) stagetrace.Batch {
		spans := make([]stagetrace.StageSpan, perBatch)
		for j := range spans {
			sp := &spans[j]
			sp.RunID, sp.Name, sp.StartTime, sp.EndTime = fmt.Sprintf("run-%d", i), "chat", base, base
			sp.TraceID[0], sp.SpanID[0], sp.SpanID[1] = 1, byte(i), byte(j)
			sp.Attrs = stagetrace.Attrs{{Key: "tenant", Value: stagetrace.StringValue(fmt.Sprint("t", i%3))}}
		}
		return stagetrace.Batch{Spans: spans}
	}
	require.NoError(t, w.Write(ctx, batch(0)))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i < batches; i++ {
			if !assert.NoError(t, w.Write(ctx, batch(i))) {
				return
			}
		}
	}()
	r := openStore(t, url, postgressink.WithIndexedAttrs("tenant"))
	wg.Wait()
	counts, names := indexedRows(t, url)
	assert.Contains(t, names, "tenant")
	assert.Equal(t, batches*perBatch, counts["tenant"], "every span's tenant is indexed")
	got, err := r.Spans(ctx, query.SpanQuery{Where: query.MustParse(`attr.tenant="t1"`)})
	require.NoError(t, err)
	assert.Equal(t, 13*perBatch, len(got), "spans of tenant t1 found")
}
