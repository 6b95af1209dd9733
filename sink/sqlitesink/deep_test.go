package sqlitesink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// A value nested past stagetrace.MaxDepth, as any OTLP client can send
// one, is stored truncated, and the store's listings keep working.
func TestStoreKeepsListingAfterDeepValue(t *testing.T) {
	s, _ := openStore(t)
	deep := stagetrace.StringValue("bottom")
	for range stagetrace.MaxDepth + 1 {
		deep = stagetrace.MapValue(stagetrace.Attr{Key: "m", Value: deep})
	}
	start := time.Unix(1_700_000_000, 0).UTC()
	spans := []stagetrace.StageSpan{
		{RunID: "r", Name: "deep", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1}, StartTime: start, EndTime: start.Add(time.Second),
			Attrs: stagetrace.Attrs{{Key: "payload", Value: deep}}},
		{RunID: "r", Name: "plain", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{2}, StartTime: start, EndTime: start.Add(time.Second)},
	}
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: spans}))

	got, err := s.Spans(ctx, sqlitesink.SpanQuery{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	want, n := stagetrace.LimitDepth(deep)
	require.Equal(t, 1, n)
	for _, sp := range got {
		if sp.Name == "deep" {
			v, ok := sp.Attrs.Get("payload")
			require.True(t, ok)
			assert.True(t, want.Equal(v), "%#v", v)
		}
	}
}
