package stagetraceexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/logtest"
	"github.com/stagetrace/stagetrace/internal/pdataview"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// putLogValue sets v in dst as OTLP carries an SDK value.
func putLogValue(dst pcommon.Value, v attribute.Value) {
	switch v.Type() {
	case attribute.BOOL:
		dst.SetBool(v.AsBool())
	case attribute.INT64:
		dst.SetInt(v.AsInt64())
	case attribute.FLOAT64:
		dst.SetDouble(v.AsFloat64())
	case attribute.STRING:
		dst.SetStr(v.AsString())
	case attribute.BYTESLICE:
		dst.SetEmptyBytes().FromRaw(v.AsByteSlice())
	case attribute.INT64SLICE:
		s := dst.SetEmptySlice()
		for _, e := range v.AsInt64Slice() {
			s.AppendEmpty().SetInt(e)
		}
	case attribute.STRINGSLICE:
		s := dst.SetEmptySlice()
		for _, e := range v.AsStringSlice() {
			s.AppendEmpty().SetStr(e)
		}
	case attribute.SLICE:
		s := dst.SetEmptySlice()
		for _, e := range v.AsSlice() {
			putLogValue(s.AppendEmpty(), e)
		}
	case attribute.MAP:
		m := dst.SetEmptyMap()
		for _, kv := range v.AsMap() {
			putLogValue(m.PutEmpty(string(kv.Key)), kv.Value)
		}
	}
}

// logsToPdata converts SDK records to pdata as the OTLP log exporter sends
// them, one scope per record.
func logsToPdata(records []sdklog.Record) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	for i := range records {
		r := &records[i]
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(r.InstrumentationScope().Name)
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(r.Timestamp()))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(r.ObservedTimestamp()))
		lr.SetSeverityNumber(plog.SeverityNumber(r.Severity()))
		lr.SetSeverityText(r.SeverityText())
		lr.SetEventName(r.EventName())
		lr.SetTraceID(pcommon.TraceID(r.TraceID()))
		lr.SetSpanID(pcommon.SpanID(r.SpanID()))
		putLogValue(lr.Body(), r.Body())
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			putLogValue(lr.Attributes().PutEmpty(string(kv.Key)), kv.Value)
			return true
		})
	}
	return ld
}

// TestLogGoldenSDKAndCollectorAgree maps the same log records through the
// SDK log exporter and through the collector exporter's pdata view: the
// JSON lines are the same, byte for byte.
func TestLogGoldenSDKAndCollectorAgree(t *testing.T) {
	k := &logtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(logexporter.NewProcessor(nil)), sdklog.WithProcessor(k))
	logger := lp.Logger("golden/llm")
	ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "run-1"), "inference")
	span := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled}))
	at := time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.UTC)
	for i, body := range []attribute.Value{
		attribute.StringValue("rate limited"),
		attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", 2), attribute.Slice("s", attribute.IntValue(1), attribute.StringValue("x"))),
		attribute.ByteSliceValue([]byte{0, 0xff}),
		attribute.Int64SliceValue([]int64{1, 2}),
		attribute.SliceValue(attribute.BoolValue(true), attribute.Float64Value(0.5)),
		{},
	} {
		var r log.Record
		r.SetTimestamp(at.Add(time.Duration(i) * time.Millisecond))
		r.SetObservedTimestamp(at)
		r.SetSeverity(log.Severity(9 + 4*i))
		r.SetSeverityText("S")
		r.SetBody(body)
		r.AddAttributes(attribute.Int("i", i), attribute.StringSlice("tags", []string{"a", "b"}))
		if i%2 == 0 {
			r.SetEventName("gen_ai.event")
			logger.Emit(ctx, r)
		} else {
			logger.Emit(span, r)
		}
	}
	require.NoError(t, lp.Shutdown(context.Background()))
	require.Len(t, k.Records(), 6)

	sdkSink := memsink.New()
	sdkExp, err := logexporter.New(logexporter.WithSinks(sdkSink))
	require.NoError(t, err)
	require.NoError(t, sdkExp.Export(context.Background(), k.Records()))
	require.NoError(t, sdkExp.Shutdown(context.Background()))

	got := pdataview.Logs(logsToPdata(k.Records()))
	want := sdkSink.Events()
	require.Len(t, got.Events, len(want))
	var e stagetrace.Encoder
	for i := range want {
		require.Equal(t, string(e.AppendEvent(nil, &want[i])), string(e.AppendEvent(nil, &got.Events[i])), "record %d", i)
	}
}
