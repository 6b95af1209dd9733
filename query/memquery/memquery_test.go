package memquery_test

import (
	"context"
	"strings"
	"testing"
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

func TestReadJSONLReportsABadLine(t *testing.T) {
	_, err := memquery.ReadJSONL(strings.NewReader("{\"type\":\"stage_span\",\n"))
	assert.Error(t, err)
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
