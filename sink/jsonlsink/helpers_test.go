package jsonlsink_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
)

var testResource = &stagetrace.Resource{Attrs: stagetrace.Attrs{
	{Key: "service.name", Value: stagetrace.StringValue("pipeline")},
	{Key: "host.name", Value: stagetrace.StringValue("builder-7")},
	{Key: "process.pid", Value: stagetrace.Int64Value(4242)},
}}

var baseTime = time.Date(2025, 3, 14, 9, 26, 53, 589_793_000, time.UTC)

// testSpan returns a realistic span: 8 attributes of mixed kinds, 2
// findings and the shared testResource. Its name is name.
func testSpan(run string, i int, name string) stagetrace.StageSpan {
	var tid stagetrace.TraceID
	binary.BigEndian.PutUint64(tid[:8], 0x0af7651916cd43dd)
	binary.BigEndian.PutUint64(tid[8:], uint64(len(run))<<32|0x8448eb21)
	var sid, parent stagetrace.SpanID
	binary.BigEndian.PutUint64(sid[:], uint64(i)+1)
	if i > 0 {
		binary.BigEndian.PutUint64(parent[:], 1)
	}
	start := baseTime.Add(time.Duration(i) * time.Millisecond)
	status := stagetrace.StatusOK
	msg := ""
	if i%7 == 3 {
		status, msg = stagetrace.StatusError, "exit status 1"
	}
	return stagetrace.StageSpan{
		RunID:         run,
		Stage:         fmt.Sprintf("stage-%d", i%4),
		Name:          name,
		TraceID:       tid,
		SpanID:        sid,
		ParentSpanID:  parent,
		StartTime:     start,
		EndTime:       start.Add(time.Duration(1500+i) * time.Microsecond),
		Status:        status,
		StatusMessage: msg,
		Kind:          stagetrace.SpanKindInternal,
		Attrs: stagetrace.Attrs{
			{Key: "step.index", Value: stagetrace.IntValue(i)},
			{Key: "step.command", Value: stagetrace.StringValue("go test ./... -run \"Test\\tX\"")},
			{Key: "step.cached", Value: stagetrace.BoolValue(i%2 == 0)},
			{Key: "step.cpu_seconds", Value: stagetrace.Float64Value(0.125 * float64(i))},
			{Key: "step.tags", Value: stagetrace.StringSliceValue([]string{"ci", "linux", "amd64"})},
			{Key: "step.exit_codes", Value: stagetrace.Int64SliceValue([]int64{0, 0, int64(i % 3)})},
			{Key: "http.url", Value: stagetrace.StringValue("https://example.com/api/v1/items?id=" + fmt.Sprint(i))},
			{Key: "ünïcode", Value: stagetrace.StringValue("日本語 ✓")},
		},
		Findings: stagetrace.Attrs{
			{Key: "tests_failed", Value: stagetrace.IntValue(i % 3)},
			{Key: "coverage", Value: stagetrace.Float64Value(81.5)},
		},
		Resource: testResource,
		Scope:    "github.com/stagetrace/stagetrace/test",
	}
}

func testEvent(run string, i int, name string) stagetrace.TraceEvent {
	s := testSpan(run, i, "unused")
	return stagetrace.TraceEvent{
		Name:    name,
		RunID:   run,
		Stage:   s.Stage,
		TraceID: s.TraceID,
		SpanID:  s.SpanID,
		Time:    s.StartTime.Add(250 * time.Microsecond),
		Attrs: stagetrace.Attrs{
			{Key: "metric.name", Value: stagetrace.StringValue("latency")},
			{Key: "metric.value", Value: stagetrace.Float64Value(12.5)},
		},
	}
}

// testBatch returns a batch of nSpans spans and nEvents events named
// "<prefix>-s<i>" and "<prefix>-e<i>".
func testBatch(run, prefix string, nSpans, nEvents int) stagetrace.Batch {
	var b stagetrace.Batch
	for i := range nSpans {
		b.Spans = append(b.Spans, testSpan(run, i, fmt.Sprintf("%s-s%d", prefix, i)))
	}
	for i := range nEvents {
		b.Events = append(b.Events, testEvent(run, i, fmt.Sprintf("%s-e%d", prefix, i)))
	}
	return b
}

// encodedSize returns the number of bytes the sink writes for b.
func encodedSize(b stagetrace.Batch) int {
	var enc stagetrace.Encoder
	var buf []byte
	for i := range b.Spans {
		buf = enc.AppendSpan(buf, &b.Spans[i])
	}
	for i := range b.Events {
		buf = enc.AppendEvent(buf, &b.Events[i])
	}
	return len(buf)
}

// readRecords decodes every line of the file at path.
func readRecords(t testing.TB, path string) []stagetrace.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return decodeAll(t, data)
}

func decodeAll(t testing.TB, data []byte) []stagetrace.Record {
	t.Helper()
	dec := stagetrace.NewDecoder(bytes.NewReader(data))
	var recs []stagetrace.Record
	for {
		r, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		require.NoError(t, err, "record %d", len(recs))
		recs = append(recs, r)
	}
}

// recordName returns the name of the span or event of r.
func recordName(r stagetrace.Record) string {
	if r.Span != nil {
		return r.Span.Name
	}
	if r.Event != nil {
		return r.Event.Name
	}
	return "<empty record>"
}

func names(recs []stagetrace.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = recordName(r)
	}
	return out
}

// batchNames returns the names of b's records in the order the sink writes
// them.
func batchNames(b stagetrace.Batch) []string {
	var out []string
	for _, s := range b.Spans {
		out = append(out, s.Name)
	}
	for _, e := range b.Events {
		out = append(out, e.Name)
	}
	return out
}

func assertSpanEqual(t *testing.T, want stagetrace.StageSpan, got *stagetrace.StageSpan) {
	t.Helper()
	if !assert.NotNil(t, got, "want span %q", want.Name) {
		return
	}
	assert.Equal(t, want.RunID, got.RunID)
	assert.Equal(t, want.Stage, got.Stage)
	assert.Equal(t, want.Name, got.Name)
	assert.Equal(t, want.TraceID, got.TraceID)
	assert.Equal(t, want.SpanID, got.SpanID)
	assert.Equal(t, want.ParentSpanID, got.ParentSpanID)
	assert.WithinDuration(t, want.StartTime, got.StartTime, time.Microsecond)
	assert.WithinDuration(t, want.EndTime, got.EndTime, time.Microsecond)
	assert.Equal(t, want.Status, got.Status)
	assert.Equal(t, want.StatusMessage, got.StatusMessage)
	assert.Equal(t, want.Kind, got.Kind)
	assert.True(t, want.Attrs.Equal(got.Attrs), "attrs of %q:\nwant %#v\ngot  %#v", want.Name, want.Attrs, got.Attrs)
	assert.True(t, want.Findings.Equal(got.Findings), "findings of %q:\nwant %#v\ngot  %#v", want.Name, want.Findings, got.Findings)
	if assert.NotNil(t, got.Resource, "resource of %q", want.Name) {
		assert.True(t, want.Resource.Attrs.Equal(got.Resource.Attrs), "resource of %q: %#v", want.Name, got.Resource.Attrs)
	}
	assert.Equal(t, want.Scope, got.Scope)
}

func assertEventEqual(t *testing.T, want stagetrace.TraceEvent, got *stagetrace.TraceEvent) {
	t.Helper()
	if !assert.NotNil(t, got, "want event %q", want.Name) {
		return
	}
	assert.Equal(t, want.Name, got.Name)
	assert.Equal(t, want.RunID, got.RunID)
	assert.Equal(t, want.Stage, got.Stage)
	assert.Equal(t, want.TraceID, got.TraceID)
	assert.Equal(t, want.SpanID, got.SpanID)
	assert.WithinDuration(t, want.Time, got.Time, time.Microsecond)
	assert.True(t, want.Attrs.Equal(got.Attrs), "attrs of %q:\nwant %#v\ngot  %#v", want.Name, want.Attrs, got.Attrs)
}
