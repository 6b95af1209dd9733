package postgressink_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/postgressink"
)

// hostile are strings that would change a statement built by pasting them
// into SQL.
var hostile = []string{
	`'); DROP TABLE spans; --`,
	`x' OR '1'='1`,
	`"; DELETE FROM runs; --`,
	`$1`, `\`, `%`, `_`, `a.b'c`, "\x00nul",
}

// TestUserValuesAreParameters sends hostile keys, values, run ids and
// order-by fields through every query: each matches exactly what it names
// (the span that has it, or none), and the tables are intact.
func TestUserValuesAreParameters(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.URL(t))
	sp := stagetrace.StageSpan{RunID: `run'; DROP TABLE runs; --`, Name: "n", StartTime: base, EndTime: base.Add(time.Second)}
	sp.TraceID[0], sp.SpanID[0] = 1, 1
	for _, h := range hostile {
		if h == "\x00nul" {
			continue // PostgreSQL text holds no NUL; see TestNulInText
		}
		sp.Attrs = append(sp.Attrs, stagetrace.Attr{Key: h, Value: stagetrace.StringValue(h)})
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{sp}}))

	for _, h := range hostile {
		for _, f := range []query.Filter{
			{Field: "attr." + h, Op: query.OpEq, Value: stagetrace.StringValue(h)},
			{Field: "attr." + h, Op: query.OpExists},
			{Field: "name", Op: query.OpEq, Value: stagetrace.StringValue(h)},
			{Field: "attr." + h, Op: query.OpMatch, Value: stagetrace.StringValue("^" + h)},
		} {
			got, err := s.Spans(ctx, query.SpanQuery{Where: []query.Filter{f}, OrderBy: "attr." + h})
			if f.Validate() != nil {
				assert.Error(t, err, "%s", f)
				continue
			}
			require.NoError(t, err, "%s", f)
			want := 0 // query.Match is the oracle
			if f.Match(&sp) {
				want = 1
			}
			assert.Len(t, got, want, "%s", f)
		}
		_, err := s.Run(ctx, h)
		assert.ErrorIs(t, err, query.ErrNotFound)
		runs, err := s.Runs(ctx, query.RunFilter{Where: []query.Filter{{Field: "run_id", Op: query.OpEq, Value: stagetrace.StringValue(h)}}})
		require.NoError(t, err)
		assert.Empty(t, runs)
		var buf bytes.Buffer
		_, err = s.ExportSpans(ctx, query.SpanQuery{Attrs: []string{h}}, query.FormatCSV, &buf)
		require.NoError(t, err)
		_, err = s.Metrics(ctx, query.MetricQuery{Name: h, Step: time.Second, Since: base, Until: base.Add(time.Minute)})
		require.NoError(t, err)
	}
	r, err := s.Run(ctx, sp.RunID)
	require.NoError(t, err, "the tables are intact")
	assert.Equal(t, 1, r.Spans)
	b, err := s.RunRecords(ctx, sp.RunID)
	require.NoError(t, err)
	require.Len(t, b.Spans, 1)
	assert.Equal(t, sp.Attrs, b.Spans[0].Attrs, "hostile keys and values read back as written")
	_, err = s.Spans(ctx, query.SpanQuery{OrderBy: "'; DROP TABLE spans; --"})
	assert.Error(t, err, "an order-by field that is not one is refused")
}

// TestNulInText stores strings holding NUL, which PostgreSQL's text type
// cannot hold: the span is kept whole in its record, and reads back as
// written.
func TestNulInText(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.URL(t))
	sp := stagetrace.StageSpan{RunID: "r", Name: "a\x00b", StartTime: base, EndTime: base}
	sp.Attrs = stagetrace.Attrs{{Key: "k\x00", Value: stagetrace.StringValue("v\x00")}}
	sp.TraceID[0], sp.SpanID[0] = 1, 1
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{sp}}))
	b, err := s.RunRecords(ctx, "r")
	require.NoError(t, err)
	require.Len(t, b.Spans, 1)
	assert.Equal(t, sp.Name, b.Spans[0].Name)
	assert.Equal(t, sp.Attrs, b.Spans[0].Attrs)
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		url  string
		opts []postgressink.Option
	}{
		{"not a URL", "postgres://u:s3cret@[::1", nil},
		{"no server", "postgres://u:s3cret@/db?host=/nonexistent&connect_timeout=2", nil},
		{"negative TTL", "postgres://u:s3cret@/db", []postgressink.Option{postgressink.WithTTL(-time.Hour)}},
		{"chunk", "postgres://u:s3cret@/db", []postgressink.Option{postgressink.WithRetentionChunk(0)}},
		{"conns", "postgres://u:s3cret@/db", []postgressink.Option{postgressink.WithMaxConns(1)}},
		{"indexed key", "postgres://u:s3cret@/db", []postgressink.Option{postgressink.WithIndexedAttrs("gen_ai.request.model", "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgressink.Open(ctx, tc.url, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.NotContains(t, err.Error(), "s3cret", "the password is never in a message")
		})
	}
	s := openStore(t, pgtest.URL(t))
	_, err := s.Spans(ctx, query.SpanQuery{Limit: -1})
	assert.Error(t, err)
	_, err = s.Runs(ctx, query.RunFilter{Status: "bad"})
	assert.Error(t, err)
	_, err = s.ExportSpans(ctx, query.SpanQuery{}, "xml", &bytes.Buffer{})
	assert.Error(t, err)
	assert.Equal(t, "postgres://u:xxxxx@h/db", postgressink.Redacted("postgres://u:s3cret@h/db"))
}
