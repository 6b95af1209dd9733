package httpsink_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/httpsink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// body is the request body a server receives.
type body struct {
	Spans  []stagetrace.StageSpan  `json:"spans"`
	Events []stagetrace.TraceEvent `json:"events"`
}

// request is what the test server saw of one request.
type request struct {
	header http.Header
	body   body
}

// server is a 127.0.0.1 ingest endpoint whose answers a test scripts.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	// answer returns the status of the n-th request (from 1) and may set
	// response headers; nil means 200.
	answer func(n int, w http.ResponseWriter, r *http.Request) int
	// body, when set, returns the response body of the n-th request.
	body func(n int, r *http.Request) string
}

func newServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request) int) *server {
	t.Helper()
	s := &server{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rd = zr
	}
	raw, err := io.ReadAll(rd)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, request{header: r.Header.Clone(), body: b})
	n := len(s.requests)
	s.mu.Unlock()
	code := http.StatusOK
	if s.answer != nil {
		code = s.answer(n, w, r)
	}
	w.WriteHeader(code)
	if s.body != nil {
		_, _ = io.WriteString(w, s.body(n, r))
	}
}

func (s *server) received() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// newSink returns a sink posting to url, shut down when the test ends.
func newSink(t *testing.T, url string, opts ...httpsink.Option) *httpsink.Sink {
	t.Helper()
	s, err := httpsink.New(url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// fastRetry retries quickly, so retry tests take milliseconds.
var fastRetry = httpsink.WithRetry(time.Millisecond, 5*time.Millisecond, 5*time.Second)

var baseTime = time.Date(2025, 6, 1, 12, 0, 0, 123_456_789, time.UTC)

var testResource = &stagetrace.Resource{Attrs: stagetrace.Attrs{
	{Key: "service.name", Value: stagetrace.StringValue("rag-api")},
}}

// testBatch returns spans spans and events events of run.
func testBatch(run string, spans, events int) stagetrace.Batch {
	var b stagetrace.Batch
	var tid stagetrace.TraceID
	copy(tid[:], run)
	for i := range spans {
		var sid stagetrace.SpanID
		sid[7] = byte(i + 1)
		start := baseTime.Add(time.Duration(i) * time.Second)
		b.Spans = append(b.Spans, stagetrace.StageSpan{
			RunID: run, Stage: "inference", Name: fmt.Sprintf("chat-%d", i),
			TraceID: tid, SpanID: sid, StartTime: start, EndTime: start.Add(1500 * time.Millisecond),
			Status: stagetrace.StatusOK, Kind: stagetrace.SpanKindClient,
			Attrs: stagetrace.Attrs{
				{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")},
				{Key: "llm.temperature", Value: stagetrace.Float64Value(0.2)},
			},
			Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.IntValue(800 + i)}},
			Resource: testResource,
			Scope:    "rag",
		})
	}
	for i := range events {
		var sid stagetrace.SpanID
		sid[7] = 1
		b.Events = append(b.Events, stagetrace.TraceEvent{
			Name: "metric", RunID: run, Stage: "inference", TraceID: tid, SpanID: sid,
			Time:  baseTime.Add(time.Duration(i) * time.Millisecond),
			Attrs: stagetrace.Attrs{{Key: "metric.value", Value: stagetrace.Float64Value(41.5)}},
		})
	}
	return b
}

// encodeLines returns the JSON line form of each record of b, to compare
// what a server decoded with what was sent.
func encodeLines(b stagetrace.Batch) []string {
	var out []string
	var enc stagetrace.Encoder
	for i := range b.Spans {
		out = append(out, string(bytes.TrimSpace(enc.AppendSpan(nil, &b.Spans[i]))))
	}
	for i := range b.Events {
		out = append(out, string(bytes.TrimSpace(enc.AppendEvent(nil, &b.Events[i]))))
	}
	return out
}
