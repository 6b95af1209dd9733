package reliability

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// generate ends n spans from workers goroutines, each in a run of its own
// ("run-<worker>"), every span with spanAttrs, a seq attribute numbering
// it within its run, and every tenth one with a metric event. It returns
// how long the application took to end them.
func generate(tp trace.TracerProvider, n, workers int) time.Duration {
	tracer := tp.Tracer("reliability")
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), fmt.Sprintf("run-%d", w)), "inference")
			for i := w; i < n; i += workers {
				_, span := tracer.Start(ctx, "chat gpt-4o", trace.WithAttributes(spanAttrs...),
					trace.WithAttributes(attribute.Int("seq", i)))
				if i%10 == 0 {
					span.AddEvent(attributes.EventMetric, trace.WithAttributes(
						attributes.MetricName.String("time_to_first_token"), attributes.MetricValue.Float64(41.5)))
				}
				span.End()
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// TestMillionSpans sends a million spans from 8 goroutines through the
// processor, a blocking BatchSpanProcessor and the exporter to a JSONL
// file and a SQLite store, and checks that each holds every span exactly
// once; then a million to JSONL alone. Reduced, each sink gets 20,000
// spans on its own (SQLite 3,000 under the race detector, which slows it
// twenty times).
func TestMillionSpans(t *testing.T) {
	if full {
		t.Run("jsonl+sqlite", func(t *testing.T) { pipelineToSinks(t, 1_000_000, true, true) })
		// JSONL alone shows the pipeline's own ceiling; SQLite sets the
		// pace of the run above.
		t.Run("jsonl", func(t *testing.T) { pipelineToSinks(t, 1_000_000, true, false) })
		return
	}
	t.Run("jsonl", func(t *testing.T) { pipelineToSinks(t, 20_000, true, false) })
	n := 20_000
	if raceEnabled {
		n = 3_000
	}
	t.Run("sqlite", func(t *testing.T) { pipelineToSinks(t, n, false, true) })
}

func pipelineToSinks(t *testing.T, n int, withJSONL, withSQLite bool) {
	dir := t.TempDir()
	jsonlPath, dbPath := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "runs.db")
	var sinks []stagetrace.Sink
	var names []string
	if withJSONL {
		jsonl, err := jsonlsink.New(jsonlPath)
		require.NoError(t, err)
		sinks, names = append(sinks, jsonl), append(names, "JSONL")
	}
	if withSQLite {
		store, err := sqlitesink.Open(dbPath)
		require.NoError(t, err)
		sinks, names = append(sinks, store), append(names, "SQLite")
	}
	exp, err := exporter.New(exporter.WithSinks(sinks...))
	require.NoError(t, err)
	tp := newProvider(exp)

	start := time.Now()
	appTime := generate(tp, n, 8)
	shutdown(t, tp) // flushes every span to the sinks
	total := time.Since(start)

	dups := 0
	if withJSONL {
		ids := make(map[stagetrace.SpanID]struct{}, n)
		events := 0
		scanJSONL(t, jsonlPath, func(rec stagetrace.Record) {
			if rec.Event != nil {
				events++
				return
			}
			if _, ok := ids[rec.Span.SpanID]; ok {
				dups++
			}
			ids[rec.Span.SpanID] = struct{}{}
		})
		assert.Equal(t, n, len(ids), "every span is in the JSONL file")
		assert.Zero(t, dups, "no span is in the JSONL file twice")
		assert.Equal(t, (n+9)/10, events, "every metric event is in the JSONL file")
	}
	if withSQLite {
		// The store ignores a span it already holds, so counting its rows
		// proves nothing was lost; duplicates are the JSONL check's job.
		ro, err := sqlitesink.OpenReadOnly(dbPath)
		require.NoError(t, err)
		defer ro.Close()
		runs, err := ro.Runs(context.Background(), sqlitesink.RunFilter{})
		require.NoError(t, err)
		stored := 0
		for _, r := range runs {
			stored += r.Spans
		}
		assert.Len(t, runs, 8)
		assert.Equal(t, n, stored, "every span is in the SQLite store")
	}

	figure(t, "%d spans through processor, BatchSpanProcessor (blocking), exporter -> %s: %.0f spans/s end to end (%v), application ended them at %.0f spans/s; lost 0, duplicated %d (GOMAXPROCS %d, race %v)",
		n, strings.Join(names, " + "), float64(n)/total.Seconds(), total.Round(time.Millisecond),
		float64(n)/appTime.Seconds(), dups, runtime.GOMAXPROCS(0), raceEnabled)
}

// TestSlowSinkLossIsCountedExactly puts a sink slower than the span rate
// behind delivery with a small queue that drops when full: the
// application is not slowed, and every span missing from the file is
// counted in the delivery stats, no more, no less.
func TestSlowSinkLossIsCountedExactly(t *testing.T) {
	n := size(200_000, 10_000)
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	jsonl, err := jsonlsink.New(path)
	require.NoError(t, err)
	slow := &slowSink{Sink: jsonl, delay: 10 * time.Millisecond}
	d, err := delivery.New(slow, delivery.WithQueueSize(4), delivery.WithLogger(quietLogger))
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(d))
	require.NoError(t, err)
	tp := newProvider(exp, sdktrace.WithMaxExportBatchSize(128))

	appTime := generate(tp, n, 4)
	shutdown(t, tp)

	ids := map[stagetrace.SpanID]struct{}{}
	dups := 0
	scanJSONL(t, path, func(rec stagetrace.Record) {
		if rec.Span == nil {
			return
		}
		if _, ok := ids[rec.Span.SpanID]; ok {
			dups++
		}
		ids[rec.Span.SpanID] = struct{}{}
	})
	st := d.Stats()
	assert.Zero(t, dups)
	require.Positive(t, st.Dropped, "the sink is slower than the spans: some must be dropped")
	assert.Equal(t, int64(n), int64(len(ids))+st.DroppedSpans, "spans in the file + spans counted as dropped = spans ended")
	figure(t, "%d spans into a sink taking 10 ms per batch of 128 behind delivery (queue 4, drop): application ended them at %.0f spans/s; %d delivered, %d dropped and counted, %d unaccounted",
		n, float64(n)/appTime.Seconds(), len(ids), st.DroppedSpans, int64(n)-int64(len(ids))-st.DroppedSpans)
}

// slowSink delays every write.
type slowSink struct {
	stagetrace.Sink
	delay time.Duration
}

func (s *slowSink) Write(ctx context.Context, b stagetrace.Batch) error {
	time.Sleep(s.delay)
	return s.Sink.Write(ctx, b)
}
