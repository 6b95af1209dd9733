package reliability

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/stagetrace/stagetrace/sink/httpsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

// ingest is an HTTP ingest endpoint on 127.0.0.1 that answers 503 until
// a given time, then accepts batches and records the span ids it got.
type ingest struct {
	*httptest.Server
	downUntil time.Time

	mu          sync.Mutex
	ids         map[stagetrace.SpanID]int
	refused     int
	lastAccept  time.Time
	badRequests int
}

func newIngest(t *testing.T, downUntil time.Time) *ingest {
	in := &ingest{downUntil: downUntil, ids: map[stagetrace.SpanID]int{}}
	in.Server = httptest.NewServer(http.HandlerFunc(in.handle))
	t.Cleanup(in.Close)
	return in
}

func (in *ingest) handle(w http.ResponseWriter, r *http.Request) {
	if time.Now().Before(in.downUntil) {
		_, _ = io.Copy(io.Discard, r.Body)
		in.mu.Lock()
		in.refused++
		in.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var body struct {
		Spans []stagetrace.StageSpan `json:"spans"`
	}
	zr, err := gzip.NewReader(r.Body)
	if err == nil {
		err = json.NewDecoder(zr).Decode(&body)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if err != nil {
		in.badRequests++
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, s := range body.Spans {
		in.ids[s.SpanID]++
	}
	in.lastAccept = time.Now()
	w.WriteHeader(http.StatusAccepted)
}

// received returns the distinct spans received and how many came twice.
func (in *ingest) received() (distinct, dups int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, n := range in.ids {
		dups += n - 1
	}
	return len(in.ids), dups
}

// produce ends spans at about rate per second for d, in ticks of 10 ms,
// and returns how many it ended and the application's cost per span: the
// time spent starting and ending spans, divided by their number.
func produce(tp trace.TracerProvider, rate int, d time.Duration) (n int, perSpan time.Duration) {
	tracer := tp.Tracer("reliability")
	ctx := attributes.ContextWithRun(context.Background(), "outage")
	perTick := max(rate/100, 1)
	var busy time.Duration
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		start := time.Now()
		for range perTick {
			_, span := tracer.Start(ctx, "chat gpt-4o", trace.WithAttributes(spanAttrs...),
				trace.WithAttributes(attribute.Int("seq", n)))
			span.End()
			n++
		}
		busy += time.Since(start)
	}
	return n, busy / time.Duration(n)
}

// TestIngestOutage sends spans at a steady rate to an ingest endpoint
// that answers 503 for 30 seconds (2 reduced), then recovers, through
// httpsink behind delivery with spill. Within the spill bound nothing is
// lost; past it, the spans counted as dropped are exactly those missing.
func TestIngestOutage(t *testing.T) {
	t.Run("within the spill bound", func(t *testing.T) { outage(t, 512<<20, false) })
	t.Run("past the spill bound", func(t *testing.T) { outage(t, size[int64](16<<20, 1<<20), true) })
}

func outage(t *testing.T, spillLimit int64, wantDrops bool) {
	down := size(30*time.Second, 2*time.Second)
	rate := size(5000, 2000)
	in := newIngest(t, time.Now().Add(down))

	hs, err := httpsink.New(in.URL+"/v1/batches", httpsink.WithGzip(),
		httpsink.WithRetry(20*time.Millisecond, 200*time.Millisecond, 500*time.Millisecond))
	require.NoError(t, err)
	d, err := delivery.New(hs, delivery.WithName("ingest"), delivery.WithLogger(quietLogger),
		delivery.OnFull(delivery.Spill), delivery.WithSpillDir(t.TempDir()), delivery.WithSpillLimit(spillLimit),
		delivery.WithQueueSize(8), delivery.WithMaxRetryElapsed(500*time.Millisecond),
		delivery.WithBackoff(20*time.Millisecond, 250*time.Millisecond))
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(d))
	require.NoError(t, err)
	tp := newProvider(exp, sdktrace.WithBatchTimeout(100*time.Millisecond), sdktrace.WithMaxExportBatchSize(256))

	// The application's cost per span with nothing wrong, to compare.
	base, err := exporter.New(exporter.WithSinks(sinktest.Discard{}))
	require.NoError(t, err)
	baseTP := newProvider(base, sdktrace.WithBatchTimeout(100*time.Millisecond), sdktrace.WithMaxExportBatchSize(256))
	_, basePerSpan := produce(baseTP, rate, size(3*time.Second, 500*time.Millisecond))
	shutdown(t, baseTP)

	// Spans keep coming through the outage and a little after it.
	n, perSpan := produce(tp, rate, down+size(2*time.Second, 500*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), size(5*time.Minute, 30*time.Second))
	defer cancel()
	require.NoError(t, tp.ForceFlush(ctx))
	require.NoError(t, d.ForceFlush(ctx), "the backlog is delivered once the endpoint is back")

	got, dups := in.received()
	st := d.Stats()
	assert.Zero(t, dups, "no span arrives twice")
	assert.Zero(t, st.Corrupted)
	assert.Zero(t, in.badRequests)
	assert.Positive(t, st.Spilled, "the outage made delivery spill")
	if wantDrops {
		require.Positive(t, st.Dropped, "the spill bound was passed")
		assert.Equal(t, int64(n), int64(got)+st.DroppedSpans, "spans received + spans counted as dropped = spans ended")
	} else {
		assert.Equal(t, n, got, "nothing is lost within the spill bound")
		assert.Zero(t, st.Dropped)
	}
	in.mu.Lock()
	refused, recovery := in.refused, in.lastAccept.Sub(in.downUntil)
	in.mu.Unlock()
	shutdown(t, tp)

	figure(t, "endpoint down %v (%d requests refused with 503), %d spans at %d/s, spill limit %d KiB: %d received, %d dropped and counted (%d batches), %d missing and not counted, %d duplicated; %d batches spilled, %d replayed; backlog delivered %v after recovery; application cost %v per span during the outage, %v exporting to a no-op sink",
		down, refused, n, rate, spillLimit>>10, got, st.DroppedSpans, st.Dropped, int64(n)-int64(got)-st.DroppedSpans, dups,
		st.Spilled, st.Replayed, recovery.Round(time.Millisecond), perSpan, basePerSpan)
}
