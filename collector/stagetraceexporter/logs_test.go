package stagetraceexporter

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// logs returns log records as an OTLP client sends them: one placed by
// the stagetrace log processor (run.id, run.stage), one in a span of trace
// 1 only, one outside any trace, and the bad inputs: a map body, bytes, a
// 1 MiB body, invalid UTF-8, a severity out of range.
func logs() plog.Logs {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName("chatbot")
	at := time.Unix(1_700_000_000, 0)
	add := func(body string, sev plog.SeverityNumber) plog.LogRecord {
		r := sl.LogRecords().AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(at))
		r.SetSeverityNumber(sev)
		r.Body().SetStr(body)
		return r
	}
	placed := add("placed", plog.SeverityNumberWarn)
	placed.SetTraceID(pcommon.TraceID{1})
	placed.SetSpanID(pcommon.SpanID{2})
	placed.Attributes().PutStr("run.id", "run-1")
	placed.Attributes().PutStr("run.stage", "load")
	inSpan := add("in span", plog.SeverityNumberError)
	inSpan.SetTraceID(pcommon.TraceID{1})
	inSpan.SetSpanID(pcommon.SpanID{3})
	add("nowhere", plog.SeverityNumberInfo)
	m := add("", plog.SeverityNumberDebug)
	m.Body().SetEmptyMap().PutStr("k", "v")
	b := add("", plog.SeverityNumberDebug)
	b.Body().SetEmptyBytes().FromRaw([]byte{0, 0xff})
	add(strings.Repeat("x", 1<<20), plog.SeverityNumberInfo)
	add("bad \xff utf8", plog.SeverityNumberInfo)
	add("out of range", plog.SeverityNumber(99))
	noTrace := add("span id only", plog.SeverityNumberWarn)
	noTrace.SetSpanID(pcommon.SpanID{9})
	return ld
}

// One component in a traces and a logs pipeline: both write to the same
// sinks, which stay open until both are shut down.
func TestLogsAndTracesShareTheSinks(t *testing.T) {
	f := NewFactory()
	cfg := sinkConfig(t)
	ctx := context.Background()
	set := exportertest.NewNopSettings(f.Type())
	te, err := f.CreateTraces(ctx, set, cfg)
	require.NoError(t, err)
	le, err := f.CreateLogs(ctx, set, cfg)
	require.NoError(t, err)
	require.NoError(t, te.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, le.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, te.ConsumeTraces(ctx, traces(2)))
	require.NoError(t, te.Shutdown(ctx))
	require.NoError(t, le.ConsumeLogs(ctx, logs()), "the logs pipeline still writes after the traces one stopped")
	require.NoError(t, le.Shutdown(ctx))
	require.NoError(t, le.Shutdown(ctx), "twice")
	err = le.ConsumeLogs(ctx, logs())
	assert.True(t, consumererror.IsPermanent(err))

	f2, err := os.Open(cfg.JSONL.Path)
	require.NoError(t, err)
	defer f2.Close()
	var spans int
	got := map[string]stagetrace.TraceEvent{}
	d := stagetrace.NewDecoder(f2)
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if rec.Span != nil {
			spans++
		} else if rec.Event.Name == stagetrace.LogEventName {
			got[rec.Event.Body.String()] = *rec.Event
		}
	}
	assert.Equal(t, 2, spans)
	require.Len(t, got, 9, "every record, bad ones included")
	assert.Equal(t, "run-1", got["placed"].RunID)
	assert.Equal(t, "load", got["placed"].Stage)
	assert.Equal(t, stagetrace.TraceID{1}.String(), got["in span"].RunID, "filed under its trace id, as a span")
	assert.Empty(t, got["nowhere"].RunID)
	assert.Empty(t, got["span id only"].RunID, "no trace id: no run")
	assert.Equal(t, stagetrace.LevelCritical, got["out of range"].Severity.Level())
	_, ok := got["bad \ufffd utf8"]
	assert.True(t, ok)
	scope, _ := got["placed"].Attrs.Get("otel.scope.name")
	assert.Equal(t, "chatbot", scope.AsString())

	st, err := sqlitesink.OpenReadOnly(cfg.SQLite.Path)
	require.NoError(t, err)
	defer st.Close()
	bad, err := st.Logs(ctx, query.LogQuery{Where: query.MustParse("severity>=warn")})
	require.NoError(t, err)
	assert.Len(t, bad, 4, "warn, error, the out-of-range one and the span-id-only warning")
}

func TestLogsShutdownWithoutStart(t *testing.T) {
	f := NewFactory()
	cfg := sinkConfig(t)
	le, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, le.Shutdown(context.Background()))
	require.NoError(t, le.Shutdown(context.Background()))
	err = le.ConsumeLogs(context.Background(), logs())
	assert.ErrorIs(t, err, errNotStarted)
	assert.True(t, consumererror.IsPermanent(err))
}
