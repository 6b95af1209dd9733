package mapping

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// fakeView is a SpanView over plain data, for unit tests of the mapping.
type fakeView struct {
	name   string
	trace  stagetrace.TraceID
	span   stagetrace.SpanID
	attrs  stagetrace.Attrs
	events []fakeEvent
}

type fakeEvent struct {
	name  string
	t     time.Time
	attrs stagetrace.Attrs
}

func (f *fakeView) Name() string                            { return f.name }
func (f *fakeView) TraceID() stagetrace.TraceID             { return f.trace }
func (f *fakeView) SpanID() stagetrace.SpanID               { return f.span }
func (f *fakeView) ParentSpanID() stagetrace.SpanID         { return stagetrace.SpanID{} }
func (f *fakeView) Kind() stagetrace.SpanKind               { return stagetrace.SpanKindInternal }
func (f *fakeView) StartTime() time.Time                    { return time.Unix(100, 0) }
func (f *fakeView) EndTime() time.Time                      { return time.Unix(101, 0) }
func (f *fakeView) Status() (stagetrace.StatusCode, string) { return stagetrace.StatusOK, "" }
func (f *fakeView) Scope() string                           { return "test" }
func (f *fakeView) EventCount() int                         { return len(f.events) }
func (f *fakeView) Event(i int) (string, time.Time)         { return f.events[i].name, f.events[i].t }
func (f *fakeView) AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs {
	return append(dst, f.attrs...)
}
func (f *fakeView) AppendEventAttributes(i int, dst stagetrace.Attrs) stagetrace.Attrs {
	return append(dst, f.events[i].attrs...)
}

func str(k, v string) stagetrace.Attr {
	return stagetrace.Attr{Key: k, Value: stagetrace.StringValue(v)}
}
func num(k string, v int) stagetrace.Attr {
	return stagetrace.Attr{Key: k, Value: stagetrace.IntValue(v)}
}

// Spans of one batch share the attribute array: mapping many spans, with
// the array growing while findings are appended, must not mix them up.
func TestBatchSpansDoNotShareAttributes(t *testing.T) {
	const n = 1000
	b := NewBatcher(Options{}, 1, 1) // too small on purpose: the array grows
	for i := range n {
		b.Add(&fakeView{
			name: fmt.Sprint("s", i),
			span: stagetrace.SpanID{byte(i), byte(i >> 8)},
			attrs: stagetrace.Attrs{
				num("i", i),
				str(string(attributes.RunID), fmt.Sprint("run-", i%7)),
				num(attributes.FindingPrefix+"tokens", i*10),
				str("model", "m"),
				num(attributes.FindingPrefix+"score", i),
			},
			events: []fakeEvent{{name: "log", attrs: stagetrace.Attrs{num("e", i)}}},
		}, nil)
	}
	batch := b.Batch()
	require.Len(t, batch.Spans, n)
	require.Len(t, batch.Events, n)
	for i, s := range batch.Spans {
		assert.Equal(t, fmt.Sprint("run-", i%7), s.RunID)
		assert.True(t, s.Attrs.Equal(stagetrace.Attrs{num("i", i), str("model", "m")}), "span %d attrs %#v", i, s.Attrs)
		assert.True(t, s.Findings.Equal(stagetrace.Attrs{num("tokens", i*10), num("score", i)}), "span %d findings %#v", i, s.Findings)
		assert.True(t, batch.Events[i].Attrs.Equal(stagetrace.Attrs{num("e", i)}), "event %d", i)
		assert.Equal(t, s.RunID, batch.Events[i].RunID)
	}
	// Appending to one span's slices must not overwrite the next span's.
	first := batch.Spans[0]
	_ = append(first.Attrs, str("x", "y"))
	_ = append(first.Findings, num("x", 1))
	assert.True(t, batch.Spans[1].Attrs.Equal(stagetrace.Attrs{num("i", 1), str("model", "m")}))
}

func TestRunDefaultsToTraceID(t *testing.T) {
	b := NewBatcher(Options{}, 2, 2)
	tid := stagetrace.TraceID{0xab, 1}
	b.Add(&fakeView{name: "a", trace: tid}, nil)
	b.Add(&fakeView{name: "b", trace: tid}, nil)
	spans := b.Batch().Spans
	assert.Equal(t, tid.String(), spans[0].RunID)
	assert.Equal(t, tid.String(), spans[1].RunID)
	assert.Nil(t, spans[0].Attrs)
	assert.Nil(t, spans[0].Findings)
}

func TestFindingPrefixAlone(t *testing.T) {
	// "finding." with no name is not a finding: it stays an attribute.
	b := NewBatcher(Options{}, 1, 1)
	b.Add(&fakeView{attrs: stagetrace.Attrs{num(attributes.FindingPrefix, 1)}}, nil)
	s := b.Batch().Spans[0]
	assert.Len(t, s.Attrs, 1)
	assert.Empty(t, s.Findings)
}
