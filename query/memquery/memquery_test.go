package memquery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
)

func TestReadJSONL(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var enc stagetrace.Encoder
	var line []byte
	for i, name := range []string{"b", "a"} {
		sp := stagetrace.StageSpan{RunID: "r1", Name: name, StartTime: start.Add(time.Duration(-i) * time.Second), EndTime: start.Add(time.Second)}
		sp.TraceID[0], sp.SpanID[0] = 1, byte(i+1)
		line = enc.AppendSpan(line, &sp)
	}
	r, err := memquery.ReadJSONL(strings.NewReader(string(line)))
	require.NoError(t, err)
	ctx := context.Background()

	spans, err := r.Spans(ctx, query.SpanQuery{OrderBy: "name"})
	require.NoError(t, err)
	require.Len(t, spans, 2)
	assert.Equal(t, "a", spans[0].Name)

	b, err := r.RunRecords(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "a", b.Spans[0].Name, "in order of start")

	_, err = r.Run(ctx, "r2")
	assert.ErrorIs(t, err, query.ErrNotFound)
	_, err = r.RunRecords(ctx, "r2")
	assert.ErrorIs(t, err, query.ErrNotFound)
	assert.NoError(t, r.Close())
}

func TestReadJSONLSkipsBadLines(t *testing.T) {
	var enc stagetrace.Encoder
	span := func(name string) string {
		sp := stagetrace.StageSpan{RunID: "r1", Name: name}
		sp.TraceID[0], sp.SpanID[0] = 1, name[0]
		return string(enc.AppendSpan(nil, &sp))
	}
	cases := []struct {
		name  string
		in    string
		spans []string
		want  memquery.Skipped
	}{
		{"clean", span("a") + span("b"), []string{"a", "b"}, memquery.Skipped{}},
		{"torn tail", span("a") + span("b") + `{"type":"stage_span","na`, []string{"a", "b"},
			memquery.Skipped{Lines: 1, Torn: true}},
		{"bad middle line", span("a") + "not json\n" + span("b"), []string{"a", "b"},
			memquery.Skipped{Lines: 1}},
		{"bad last line, whole", span("a") + "{}\n", []string{"a"}, memquery.Skipped{Lines: 1}},
		{"bad middle and torn tail", "x\n" + span("a") + "{", []string{"a"}, memquery.Skipped{Lines: 2, Torn: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := memquery.ReadJSONL(strings.NewReader(c.in))
			require.NoError(t, err)
			spans, err := r.Spans(context.Background(), query.SpanQuery{})
			require.NoError(t, err)
			var names []string
			for _, s := range spans {
				names = append(names, s.Name)
			}
			assert.Equal(t, c.spans, names, "no record after a bad line is lost")
			sk := r.Skipped()
			assert.Equal(t, c.want.Lines, sk.Lines)
			assert.Equal(t, c.want.Torn, sk.Torn)
			if c.want.Lines > 0 {
				assert.ErrorContains(t, sk.First, "line ")
			} else {
				assert.NoError(t, sk.First)
			}
		})
	}
}

func TestReadJSONLReturnsReadErrors(t *testing.T) {
	_, err := memquery.ReadJSONL(iotest.ErrReader(errors.New("disk on fire")))
	assert.ErrorContains(t, err, "disk on fire")
}

func TestRefusesBadQueries(t *testing.T) {
	r := memquery.New(stagetrace.Batch{})
	ctx := context.Background()
	_, err := r.Spans(ctx, query.SpanQuery{OrderBy: "elapsed"})
	assert.ErrorContains(t, err, `cannot order by "elapsed"`)
	_, err = r.Runs(ctx, query.RunFilter{Status: "maybe"})
	assert.ErrorContains(t, err, `unknown run status "maybe"`)
	_, err = r.ExportSpans(ctx, query.SpanQuery{}, "xml", nil)
	assert.ErrorContains(t, err, `unknown export format "xml"`)
	_, err = r.Metrics(ctx, query.MetricQuery{Name: "m"})
	assert.ErrorContains(t, err, "step 0s: must be at least 1s")
}
