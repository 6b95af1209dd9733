package sinktest

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Attribute keys of the suite's own records.
const (
	keySeq   = "sinktest.seq"
	keyRatio = "sinktest.ratio"
	keyFlag  = "sinktest.flag"
	keyText  = "sinktest.text"
	keyTags  = "sinktest.tags"
	keyLarge = "sinktest.large"
	keyRef   = "sinktest.ref"
)

// generator makes records that differ in every field a sink stores, with
// ids unique within a case, so that a store that skips a span it already
// has stores every one.
type generator struct {
	n    atomic.Uint64
	base time.Time
	res  *stagetrace.Resource
}

func newGenerator() *generator {
	return &generator{
		// Now rather than a fixed date: sinks that window by time (a
		// monitor) count records of the present.
		base: time.Now().UTC(),
		res: &stagetrace.Resource{Attrs: stagetrace.Attrs{
			{Key: string(attributes.ServiceName), Value: stagetrace.StringValue("sinktest")},
		}},
	}
}

// batch returns spans spans and events events, each event on one of the
// batch's spans, or on a span of its own when there are none: metric
// events, and every other one a log event (stagetrace.LogEventName).
func (g *generator) batch(spans, events int) stagetrace.Batch {
	var b stagetrace.Batch
	for range spans {
		b.Spans = append(b.Spans, g.span())
	}
	for i := range events {
		k := g.n.Add(1)
		ev := stagetrace.TraceEvent{
			Name: attributes.EventMetric,
			Time: g.base.Add(time.Duration(k)*time.Millisecond + 456),
			Attrs: stagetrace.Attrs{
				{Key: string(attributes.MetricName), Value: stagetrace.StringValue("sinktest.latency")},
				{Key: string(attributes.MetricValue), Value: stagetrace.Float64Value(float64(k) * 0.5)},
				{Key: string(attributes.MetricUnit), Value: stagetrace.StringValue("ms")},
				{Key: keySeq, Value: stagetrace.Int64Value(int64(k))},
			},
		}
		if len(b.Spans) > 0 {
			sp := &b.Spans[i%len(b.Spans)]
			ev.RunID, ev.Stage, ev.TraceID, ev.SpanID = sp.RunID, sp.Stage, sp.TraceID, sp.SpanID
		} else {
			ev.RunID, ev.Stage, ev.TraceID, ev.SpanID = runOf(k), "evaluation", traceOf(k), spanOf(k)
		}
		if i%2 == 1 {
			// Every other event is a log record, logged in the span: a
			// severity, in range or not, and a body that is a map.
			ev.Name = stagetrace.LogEventName
			ev.Severity = stagetrace.Severity{Number: 1 + int64(k%30), Text: "sinktest"}
			ev.Body = stagetrace.MapValue(
				stagetrace.Attr{Key: "message", Value: stagetrace.StringValue("naïve \"log\"\n")},
				stagetrace.Attr{Key: "raw", Value: stagetrace.BytesValue([]byte{0, 0xff})},
			)
			ev.Attrs = ev.Attrs[len(ev.Attrs)-1:] // the sequence number only
		}
		b.Events = append(b.Events, ev)
	}
	return b
}

func (g *generator) span() stagetrace.StageSpan {
	k := g.n.Add(1)
	start := g.base.Add(time.Duration(k)*time.Millisecond + 123)
	s := stagetrace.StageSpan{
		RunID:     runOf(k),
		Stage:     []string{"retrieval", "inference"}[k%2],
		Name:      []string{"sinktest.retrieve", "sinktest.generate"}[k%2],
		TraceID:   traceOf(k),
		SpanID:    spanOf(k),
		StartTime: start,
		EndTime:   start.Add(1500*time.Microsecond + 7),
		Status:    stagetrace.StatusOK,
		Kind:      []stagetrace.SpanKind{stagetrace.SpanKindInternal, stagetrace.SpanKindClient}[k%2],
		Attrs: stagetrace.Attrs{
			{Key: keySeq, Value: stagetrace.Int64Value(int64(k))},
			{Key: keyRatio, Value: stagetrace.Float64Value(float64(k) / 7)},
			{Key: keyFlag, Value: stagetrace.BoolValue(k%2 == 0)},
			{Key: keyText, Value: stagetrace.StringValue("naïve \"quoted\"\n")},
			{Key: keyTags, Value: stagetrace.StringSliceValue([]string{"a", "b"})},
		},
		Findings: stagetrace.Attrs{
			{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(100 + int64(k))},
			{Key: attributes.FindingOutputTokens, Value: stagetrace.Int64Value(10 + int64(k))},
			{Key: "score", Value: stagetrace.Float64Value(0.25)},
		},
		Resource: g.res,
		Scope:    "sinktest",
	}
	if k%2 == 1 {
		s.ParentSpanID = spanOf(k + 1000)
	}
	if k%4 == 3 {
		s.Status, s.StatusMessage = stagetrace.StatusError, "sinktest: failed"
	}
	return s
}

func runOf(k uint64) string { return fmt.Sprintf("sinktest-run-%d", k%3) }

func traceOf(k uint64) stagetrace.TraceID {
	var id stagetrace.TraceID
	copy(id[:8], "sinktest")
	binary.BigEndian.PutUint64(id[8:], k)
	return id
}

func spanOf(k uint64) stagetrace.SpanID {
	var id stagetrace.SpanID
	binary.BigEndian.PutUint64(id[:], k)
	return id
}

// delivered checks that the sink delivered every record of must, all or
// none of each batch of may, and nothing else.
func (s *suite) delivered(t *testing.T, must, may []stagetrace.Batch) {
	t.Helper()
	if s.h.Count != nil {
		s.counted(t, must, may)
		return
	}
	got := s.h.Read(t)
	spans := index(t, "span", got.Spans, normalSpan, spanKey)
	events := index(t, "event", got.Events, normalEvent, eventKey)

	take := func(b stagetrace.Batch) {
		for i := range b.Spans {
			want := normalSpan(b.Spans[i])
			checkSpan(t, want, spans)
			delete(spans, spanKey(&want))
		}
		for i := range b.Events {
			want := normalEvent(b.Events[i])
			checkEvent(t, want, events)
			delete(events, eventKey(&want))
		}
	}
	for _, b := range must {
		take(b)
	}
	for _, b := range may {
		present, total := 0, b.Len()
		for i := range b.Spans {
			if _, ok := spans[spanKey(&b.Spans[i])]; ok {
				present++
			}
		}
		for i := range b.Events {
			if _, ok := events[eventKey(&b.Events[i])]; ok {
				present++
			}
		}
		if present > 0 {
			assert.Equal(t, total, present, "a batch is delivered whole or not at all")
			take(b)
		}
	}
	for k := range spans {
		assert.Failf(t, "span delivered that was not written, or written after Shutdown", "span %s", k)
	}
	for k := range events {
		assert.Failf(t, "event delivered that was not written, or written after Shutdown", "event %s", k)
	}
}

// index returns records, normalized, by key, failing on a key delivered
// twice.
func index[R any](t *testing.T, what string, records []R, normal func(R) R, key func(*R) string) map[string]R {
	t.Helper()
	out := make(map[string]R, len(records))
	for _, r := range records {
		r = normal(r)
		k := key(&r)
		if _, dup := out[k]; dup {
			assert.Failf(t, what+" delivered twice", "%s %s", what, k)
		}
		out[k] = r
	}
	return out
}

// counted is delivered for a sink that counts.
func (s *suite) counted(t *testing.T, must, may []stagetrace.Batch) {
	t.Helper()
	var want Counts
	for _, b := range must {
		want.Spans += len(b.Spans)
		want.Events += len(b.Events)
	}
	allowed := []Counts{want}
	for _, b := range may {
		for _, c := range allowed {
			allowed = append(allowed, Counts{Spans: c.Spans + len(b.Spans), Events: c.Events + len(b.Events)})
		}
	}
	got := s.h.Count(t)
	assert.Contains(t, allowed, got, "records counted (the first is what was written and confirmed)")
}

func checkSpan(t *testing.T, want stagetrace.StageSpan, got map[string]stagetrace.StageSpan) {
	t.Helper()
	check(t, "span", spanKey(&want), want, got, spanEqual)
}

func checkEvent(t *testing.T, want stagetrace.TraceEvent, got map[string]stagetrace.TraceEvent) {
	t.Helper()
	check(t, "event", eventKey(&want), want, got, eventEqual)
}

// check checks that the record delivered under key is want.
func check[R interface{ MarshalJSON() ([]byte, error) }](t *testing.T, what, key string, want R, got map[string]R, equal func(a, b *R) bool) {
	t.Helper()
	r, ok := got[key]
	if !ok {
		assert.Failf(t, what+" not delivered", "%s %s", what, key)
		return
	}
	if !equal(&want, &r) {
		assert.Failf(t, what+" delivered changed", "%s %s\n%s", what, key, difference(want.MarshalJSON, r.MarshalJSON))
	}
}

func spanKey(s *stagetrace.StageSpan) string { return s.TraceID.String() + "/" + s.SpanID.String() }

func eventKey(e *stagetrace.TraceEvent) string {
	return fmt.Sprintf("%s/%s@%d", e.TraceID, e.SpanID, e.Time.UnixNano())
}

// normalSpan puts a span in the form the comparison expects: times in
// UTC, attributes sorted by key, empty attributes and resources nil. The
// order of attributes is not a sink's promise.
func normalSpan(s stagetrace.StageSpan) stagetrace.StageSpan {
	s.StartTime, s.EndTime = s.StartTime.UTC(), s.EndTime.UTC()
	s.Attrs, s.Findings = normalAttrs(s.Attrs), normalAttrs(s.Findings)
	if s.Resource != nil {
		r := stagetrace.Resource{Attrs: normalAttrs(s.Resource.Attrs)}
		s.Resource = nil
		if r.Attrs != nil {
			s.Resource = &r
		}
	}
	return s
}

func normalEvent(e stagetrace.TraceEvent) stagetrace.TraceEvent {
	e.Time = e.Time.UTC()
	e.Attrs = normalAttrs(e.Attrs)
	return e
}

func normalAttrs(a stagetrace.Attrs) stagetrace.Attrs {
	if len(a) == 0 {
		return nil
	}
	a = slices.Clone(a)
	slices.SortStableFunc(a, func(x, y stagetrace.Attr) int { return cmp.Compare(x.Key, y.Key) })
	return a
}

func spanEqual(a, b *stagetrace.StageSpan) bool {
	return a.RunID == b.RunID && a.Stage == b.Stage && a.Name == b.Name &&
		a.TraceID == b.TraceID && a.SpanID == b.SpanID && a.ParentSpanID == b.ParentSpanID &&
		a.StartTime.Equal(b.StartTime) && a.EndTime.Equal(b.EndTime) &&
		a.Status == b.Status && a.StatusMessage == b.StatusMessage && a.Kind == b.Kind &&
		a.Attrs.Equal(b.Attrs) && a.Findings.Equal(b.Findings) &&
		(a.Resource == nil) == (b.Resource == nil) &&
		(a.Resource == nil || a.Resource.Attrs.Equal(b.Resource.Attrs)) &&
		a.Scope == b.Scope
}

func eventEqual(a, b *stagetrace.TraceEvent) bool {
	return a.Name == b.Name && a.RunID == b.RunID && a.Stage == b.Stage &&
		a.TraceID == b.TraceID && a.SpanID == b.SpanID && a.Time.Equal(b.Time) &&
		a.Attrs.Equal(b.Attrs) && a.Severity == b.Severity && a.Body.Equal(b.Body)
}

// difference shows where the JSON forms of two records part, with some
// context: records with a 1 MiB value are too long to print whole.
func difference(want, got func() ([]byte, error)) string {
	w, _ := want()
	g, _ := got()
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(i-120, 0)
	cut := func(b []byte) string {
		end := min(i+120, len(b))
		s := string(b[from:end])
		if end < len(b) {
			s += fmt.Sprintf("... (%d bytes)", len(b))
		}
		return strings.ToValidUTF8(s, "?")
	}
	return fmt.Sprintf("written:   ...%s\ndelivered: ...%s", cut(w), cut(g))
}
