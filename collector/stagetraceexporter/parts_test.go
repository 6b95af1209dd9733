package stagetraceexporter

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/mapping"
)

// partsSink records the spans of each Write, by their "i" attribute, and
// fails the Writes listed in fail (counted from 1).
type partsSink struct {
	mu     sync.Mutex
	writes [][]int64
	fail   map[int]bool
}

var errPart = errors.New("part refused")

func (s *partsSink) Write(_ context.Context, b stagetrace.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[len(s.writes)+1] {
		s.writes = append(s.writes, nil)
		return errPart
	}
	var ids []int64
	for _, sp := range b.Spans {
		v, _ := sp.Attrs.Get("i")
		ids = append(ids, v.AsInt64())
	}
	s.writes = append(s.writes, ids)
	return nil
}

func (s *partsSink) Shutdown(context.Context) error { return nil }

// numbered returns n spans with attribute i = 0..n-1, spread over two
// resources and three scopes, every tenth with an invalid span id.
func numbered(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	var spans ptrace.SpanSlice
	for i := range n {
		if i%500 == 0 {
			rs := td.ResourceSpans()
			if rs.Len() < 2 || i%1000 == 0 {
				r := rs.AppendEmpty()
				r.Resource().Attributes().PutStr("service.name", "svc")
			}
			ss := rs.At(rs.Len() - 1).ScopeSpans().AppendEmpty()
			ss.Scope().SetName("scope")
			spans = ss.Spans()
		}
		s := spans.AppendEmpty()
		s.SetName("s")
		s.SetTraceID(pcommon.TraceID{1})
		if i%10 != 9 {
			s.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8), 1})
		}
		s.Attributes().PutInt("i", int64(i))
	}
	return td
}

func newPartsWriter(t *testing.T, sink *partsSink) *writer {
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{sink}))
	return w
}

// A large batch reaches the sinks in parts of at most MaxWriteSpans spans,
// in order, every valid span once; the invalid ones are counted across
// parts.
func TestWriteInParts(t *testing.T) {
	const n = 1300
	sink := &partsSink{}
	w := newPartsWriter(t, sink)
	err := w.write(context.Background(), numbered(n))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "dropped 130 spans")

	require.Len(t, sink.writes, 3)
	var next int64
	for k, ids := range sink.writes {
		assert.LessOrEqual(t, len(ids), exporter.MaxWriteSpans, "write %d", k)
		for _, i := range ids {
			if next%10 == 9 {
				next++
			}
			assert.Equal(t, next, i, "in order, each once")
			next++
		}
	}
	if next%10 == 9 { // the last span is an invalid one
		next++
	}
	assert.Equal(t, int64(n), next)
}

// When a part fails after others were written, the error carries only the
// spans not yet written, so that the retry writes no span twice.
func TestWritePartFailureRetriesTheRest(t *testing.T) {
	const n = 1300
	sink := &partsSink{fail: map[int]bool{2: true}}
	w := newPartsWriter(t, sink)
	td := numbered(n)
	err := w.write(context.Background(), td)
	require.ErrorIs(t, err, errPart)
	assert.False(t, consumererror.IsPermanent(err))
	var rest consumererror.Traces
	require.ErrorAs(t, err, &rest)
	require.Len(t, sink.writes, 2)
	first := sink.writes[0]
	require.NotEmpty(t, first)
	// The rest starts right after the last span of the first part.
	restTD := rest.Data()
	assert.Equal(t, n-int(first[len(first)-1])-1, restTD.SpanCount())
	firstRest := restTD.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	v, _ := firstRest.Attributes().Get("i")
	assert.Equal(t, first[len(first)-1]+1, v.Int())
	assert.Equal(t, "svc", func() string {
		s, _ := restTD.ResourceSpans().At(0).Resource().Attributes().Get("service.name")
		return s.Str()
	}())

	// The retry writes the rest, and every valid span has been written once.
	require.Error(t, w.write(context.Background(), restTD)) // the invalid ones, permanently
	seen := map[int64]int{}
	for _, ids := range sink.writes {
		for _, i := range ids {
			seen[i]++
		}
	}
	for i := range int64(n) {
		if i%10 == 9 {
			assert.Zero(t, seen[i])
			continue
		}
		assert.Equal(t, 1, seen[i], "span %d", i)
	}
}

// A failure of the first part retries the batch whole, as before parts.
func TestWriteFirstPartFailureRetriesAll(t *testing.T) {
	sink := &partsSink{fail: map[int]bool{1: true}}
	w := newPartsWriter(t, sink)
	err := w.write(context.Background(), numbered(1300))
	require.ErrorIs(t, err, errPart)
	var rest consumererror.Traces
	assert.False(t, errors.As(err, &rest), "nothing written: the batch is retried as it was")
	assert.Len(t, sink.writes, 1)
}
