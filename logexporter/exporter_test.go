package logexporter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/logtest"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/redact"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func record(body string) sdklog.Record {
	var r sdklog.Record
	r.SetBody(attribute.StringValue(body))
	r.SetSeverity(17)
	return r
}

func TestNewNeedsOneKindOfSink(t *testing.T) {
	_, err := logexporter.New()
	assert.ErrorContains(t, err, "no sink")
	fan, err := exporter.NewFanout(0, memsink.New())
	require.NoError(t, err)
	_, err = logexporter.New(logexporter.WithFanout(fan), logexporter.WithSinks(memsink.New()))
	assert.ErrorContains(t, err, "use one")
	_, err = logexporter.New(logexporter.WithSinks(nil))
	assert.ErrorContains(t, err, "nil")
	_, err = logexporter.New(logexporter.WithSinks(memsink.New()), logexporter.WithSinkTimeout(-time.Second))
	assert.ErrorContains(t, err, "negative")
}

func TestShutdownOwnedSinks(t *testing.T) {
	mem := memsink.New()
	e, err := logexporter.New(logexporter.WithSinks(mem))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.Export(ctx, []sdklog.Record{record("a"), record("b")}))
	require.NoError(t, e.ForceFlush(ctx))
	require.NoError(t, e.Shutdown(ctx))
	require.NoError(t, e.Shutdown(ctx), "idempotent")
	assert.ErrorIs(t, e.Export(ctx, []sdklog.Record{record("c")}), sdklog.ErrExporterShutdown)
	assert.NoError(t, e.ForceFlush(ctx))
	assert.ErrorIs(t, mem.Write(ctx, stagetrace.Batch{}), stagetrace.ErrClosed, "its own sinks are shut down")
	require.Len(t, mem.Events(), 2)
	assert.Equal(t, stagetrace.LevelError, mem.Events()[0].Severity.Level())
}

func TestShutdownLeavesASharedFanout(t *testing.T) {
	mem := memsink.New()
	fan, err := exporter.NewFanout(0, mem)
	require.NoError(t, err)
	e, err := logexporter.New(logexporter.WithFanout(fan))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.Shutdown(ctx))
	assert.NoError(t, fan.Write(ctx, stagetrace.Batch{}), "the span exporter still writes")
	require.NoError(t, fan.Shutdown(ctx))
}

// stallSink holds every write until its gate opens.
type stallSink struct {
	*memsink.Sink
	gate *sinktest.Gate
}

func (s stallSink) Write(ctx context.Context, b stagetrace.Batch) error {
	if err := s.gate.Wait(ctx); err != nil {
		return err
	}
	return s.Sink.Write(ctx, b)
}

func (s stallSink) Shutdown(ctx context.Context) error {
	if err := s.gate.Wait(ctx); err != nil {
		return err
	}
	return s.Sink.Shutdown(ctx)
}

func TestShutdownHonoursItsContext(t *testing.T) {
	gate := &sinktest.Gate{}
	e, err := logexporter.New(logexporter.WithSinks(stallSink{memsink.New(), gate}))
	require.NoError(t, err)
	_, release := gate.Stall(t)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = e.Shutdown(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	assert.ErrorIs(t, e.Export(cancelled, []sdklog.Record{record("x")}), sdklog.ErrExporterShutdown)
}

func TestExportHonoursItsContext(t *testing.T) {
	mem := memsink.New()
	e, err := logexporter.New(logexporter.WithSinks(mem))
	require.NoError(t, err)
	defer e.Shutdown(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, e.Export(ctx, []sdklog.Record{record("x")}), context.Canceled)
	assert.Empty(t, mem.Events())
	assert.NoError(t, e.Export(context.Background(), nil))
}

func TestRedactorMasksBodies(t *testing.T) {
	r, err := redact.New(redact.Config{Presets: []string{"emails"}})
	require.NoError(t, err)
	mem := memsink.New()
	e, err := logexporter.New(logexporter.WithSinks(mem), logexporter.WithRedactor(r))
	require.NoError(t, err)
	defer e.Shutdown(context.Background())
	require.NoError(t, e.Export(context.Background(), []sdklog.Record{record("mail jane.doe@example.com")}))
	require.Len(t, mem.Events(), 1)
	assert.NotContains(t, mem.Events()[0].Body.AsString(), "jane.doe")
}

func TestMapSharesNothingWithRecords(t *testing.T) {
	e, err := logexporter.New(logexporter.WithSinks(memsink.New()))
	require.NoError(t, err)
	defer e.Shutdown(context.Background())
	buf := []byte("abc")
	var r sdklog.Record
	r.SetBody(attribute.ByteSliceValue(buf))
	b := e.Map([]sdklog.Record{r})
	buf[0] = 'X'
	assert.Equal(t, []byte("abc"), b.Events[0].Body.AsBytes())
}

// recordsWithAttrs returns one record per body, emitted through the SDK,
// with the attributes n (from first on) and tags ([body, body]).
func recordsWithAttrs(t *testing.T, first int, bodies ...string) []sdklog.Record {
	t.Helper()
	k := &logtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(k))
	logger := lp.Logger("test")
	for i, body := range bodies {
		var r log.Record
		r.SetBody(attribute.StringValue(body))
		r.AddAttributes(attribute.Int("n", first+i), attribute.StringSlice("tags", []string{body, body}))
		logger.Emit(context.Background(), r)
	}
	require.NoError(t, lp.Shutdown(context.Background()))
	return k.Records()
}

// Each export maps into the arrays of the last one: what the sinks kept of
// the earlier exports stays as it was written.
func TestExportsKeepEarlierRecords(t *testing.T) {
	mem := memsink.New()
	e, err := logexporter.New(logexporter.WithSinks(mem))
	require.NoError(t, err)
	defer e.Shutdown(context.Background())
	ctx := context.Background()
	require.NoError(t, e.Export(ctx, recordsWithAttrs(t, 1, "a", "b")))
	require.NoError(t, e.Export(ctx, recordsWithAttrs(t, 3, "c")))
	require.NoError(t, e.Export(ctx, recordsWithAttrs(t, 4, "d", "e", "f")))
	events := mem.Events()
	require.Len(t, events, 6)
	for i, ev := range events {
		body := string(rune('a' + i))
		assert.Equal(t, body, ev.Body.AsString())
		n, _ := ev.Attrs.Get("n")
		assert.Equal(t, int64(i+1), n.AsInt64(), "record %s", body)
		tags, _ := ev.Attrs.Get("tags")
		assert.Equal(t, []string{body, body}, tags.AsStringSlice(), "record %s", body)
	}
}

// Each export is mapped into the arrays of the last.
func TestExportReusesItsArrays(t *testing.T) {
	arrays := &sinktest.Arrays{}
	e, err := logexporter.New(logexporter.WithSinks(arrays))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.Export(ctx, recordsWithAttrs(t, 1, "a", "b", "c")))
	require.NoError(t, e.Export(ctx, recordsWithAttrs(t, 4, "d", "e")))
	require.NoError(t, e.Shutdown(ctx))
	arrays.CheckReused(t, 2)
}

// A batch a sink was abandoned with at its timeout is not reused: the
// sink still reads it whole once it wakes up, after later exports.
func TestAbandonedBatchIsNotReused(t *testing.T) {
	late := sinktest.NewLateSink(memsink.New(), func(b stagetrace.Batch) []string {
		var bodies []string
		for _, ev := range b.Events {
			bodies = append(bodies, ev.Body.AsString())
		}
		return bodies
	})
	e, err := logexporter.New(logexporter.WithSinks(late), logexporter.WithSinkTimeout(20*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	err = e.Export(ctx, []sdklog.Record{record("a"), record("b")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not finished")
	require.NoError(t, e.Export(ctx, []sdklog.Record{record("c"), record("d")}))
	require.NoError(t, e.Export(ctx, []sdklog.Record{record("e"), record("f")}))
	assert.Equal(t, []string{"a", "b"}, late.Release())
	require.NoError(t, e.Shutdown(ctx))
}
