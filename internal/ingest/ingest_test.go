package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// traces returns n spans of one trace, run "run-1"; with invalid, one
// more span without a span id.
func traces(n int, invalid bool) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	ss.Scope().SetName("test")
	for i := 0; i < n; i++ {
		s := ss.Spans().AppendEmpty()
		s.SetName("span")
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		s.Attributes().PutStr("run.id", "run-1")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_001, 0)))
	}
	if invalid {
		s := ss.Spans().AppendEmpty()
		s.SetName("no id")
		s.SetTraceID(pcommon.TraceID{1})
	}
	return td
}

func protoBody(t testing.TB, td ptrace.Traces) []byte {
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(t, err)
	return b
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func post(t *testing.T, url, contentType, encoding string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func newServer(t *testing.T, sink stagetrace.Sink, opts ...Option) (*Receiver, string) {
	t.Helper()
	r, err := New(sink, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(r.HTTPHandler())
	t.Cleanup(func() {
		srv.Close()
		_ = r.Shutdown(context.Background())
	})
	return r, srv.URL
}

func TestHTTPTracesEncodings(t *testing.T) {
	jsonBody, err := ptraceotlp.NewExportRequestFromTraces(traces(2, false)).MarshalJSON()
	require.NoError(t, err)
	for _, tc := range []struct {
		name, contentType, encoding string
		body                        []byte
	}{
		{"protobuf", "application/x-protobuf", "", protoBody(t, traces(2, false))},
		{"protobuf gzip", "application/x-protobuf", "gzip", gz(t, protoBody(t, traces(2, false)))},
		{"json", "application/json", "", jsonBody},
		{"json gzip", "application/json; charset=utf-8", "gzip", gz(t, jsonBody)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memsink.New()
			r, url := newServer(t, mem)
			resp := post(t, url+TracesPath, tc.contentType, tc.encoding, tc.body)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("Content-Type"), strings.Split(tc.contentType, ";")[0])
			require.NoError(t, r.Shutdown(context.Background()))
			assert.Len(t, mem.Spans(), 2)
			assert.Equal(t, "run-1", mem.Spans()[0].RunID)
		})
	}
}

func TestHTTPPartialSuccess(t *testing.T) {
	mem := memsink.New()
	r, url := newServer(t, mem)
	resp := post(t, url+TracesPath, "application/x-protobuf", "", protoBody(t, traces(2, true)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := ptraceotlp.NewExportResponse()
	require.NoError(t, out.UnmarshalProto(body))
	assert.Equal(t, int64(1), out.PartialSuccess().RejectedSpans())
	assert.Contains(t, out.PartialSuccess().ErrorMessage(), "invalid trace or span id")
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Len(t, mem.Spans(), 2, "the valid spans are kept")
}

func TestHTTPRefusals(t *testing.T) {
	mem := memsink.New()
	_, url := newServer(t, mem, WithMaxBodyBytes(1024))
	big := traces(200, false)
	bomb := gz(t, bytes.Repeat([]byte{0}, 512<<10))
	require.Less(t, len(bomb), 1024, "the bomb is small compressed")
	for _, tc := range []struct {
		name, path, contentType, encoding string
		body                              []byte
		want                              int
	}{
		{"malformed protobuf", TracesPath, "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"malformed json", TracesPath, "application/json", "", []byte(`{"resourceSpans": [`), http.StatusBadRequest},
		{"malformed gzip", TracesPath, "application/x-protobuf", "gzip", []byte("not gzip"), http.StatusBadRequest},
		{"malformed logs", LogsPath, "application/x-protobuf", "", []byte{0xff, 0xff}, http.StatusBadRequest},
		{"too large", TracesPath, "application/x-protobuf", "", protoBody(t, big), http.StatusRequestEntityTooLarge},
		{"gzip bomb", TracesPath, "application/x-protobuf", "gzip", bomb, http.StatusRequestEntityTooLarge},
		{"media type", TracesPath, "text/plain", "", []byte("x"), http.StatusUnsupportedMediaType},
		{"encoding", TracesPath, "application/x-protobuf", "br", []byte("x"), http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, url+tc.path, tc.contentType, tc.encoding, tc.body)
			assert.Equal(t, tc.want, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			if resp.Header.Get("Content-Type") == "application/x-protobuf" {
				var st spb.Status
				require.NoError(t, proto.Unmarshal(body, &st), "the body is a google.rpc.Status")
				assert.NotEmpty(t, st.GetMessage())
			}
		})
	}
	resp, err := http.Get(url + TracesPath)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Empty(t, mem.Spans(), "nothing refused was written")
}

// gate is a sink whose writes wait until it is opened.
type gate struct {
	*memsink.Sink
	open    chan struct{}
	started chan struct{}
	once    sync.Once
}

func (g *gate) Write(ctx context.Context, b stagetrace.Batch) error {
	g.once.Do(func() { close(g.started) })
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Sink.Write(ctx, b)
}

func TestHTTPQueueFullAsksToRetry(t *testing.T) {
	g := &gate{Sink: memsink.New(), open: make(chan struct{}), started: make(chan struct{})}
	r, url := newServer(t, g, WithQueueSize(1), WithRetryAfter(3*time.Second))
	body := protoBody(t, traces(1, false))
	// The first batch is taken by the writer and blocks in the sink; the
	// second fills the queue; the third is refused at once.
	require.Equal(t, http.StatusOK, post(t, url+TracesPath, "application/x-protobuf", "", body).StatusCode)
	<-g.started
	require.Equal(t, http.StatusOK, post(t, url+TracesPath, "application/x-protobuf", "", body).StatusCode)
	resp := post(t, url+TracesPath, "application/x-protobuf", "", body)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"))
	assert.Equal(t, int64(1), r.Stats().Refused)

	// Shutdown drains what was accepted, and refuses more with 503.
	done := make(chan error, 1)
	go func() { done <- r.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool {
		resp := post(t, url+TracesPath, "application/x-protobuf", "", body)
		return resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "3"
	}, 5*time.Second, 10*time.Millisecond)
	close(g.open)
	require.NoError(t, <-done)
	assert.Len(t, g.Spans(), 2, "both accepted batches are in the sink")
}

func TestShutdownHonoursContext(t *testing.T) {
	g := &gate{Sink: memsink.New(), open: make(chan struct{}), started: make(chan struct{})}
	r, err := New(g)
	require.NoError(t, err)
	_, _, err = r.ConsumeTraces(traces(1, false))
	require.NoError(t, err)
	_, _, err = r.ConsumeTraces(traces(2, false))
	require.NoError(t, err)
	<-g.started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = r.Shutdown(ctx)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	// The writer has stopped: the sink's blocked write was cancelled, the
	// rest dropped and counted.
	assert.Equal(t, int64(2), r.Stats().WriteErrors)
	assert.Empty(t, g.Spans())
	require.NoError(t, r.Shutdown(context.Background()), "a second Shutdown returns at once")
}

func TestHTTPLogs(t *testing.T) {
	mem := memsink.New()
	r, url := newServer(t, mem)
	ld := plog.NewLogs()
	rec := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.Body().SetStr("model call failed")
	rec.SetSeverityNumber(plog.SeverityNumberError)
	rec.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0)))
	rec.Attributes().PutStr("run.id", "run-1")
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	resp := post(t, url+LogsPath, "application/x-protobuf", "gzip", gz(t, body))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, r.Shutdown(context.Background()))
	require.Len(t, mem.Events(), 1)
	ev := mem.Events()[0]
	assert.Equal(t, "run-1", ev.RunID)
	assert.Equal(t, "model call failed", ev.Body.AsString())
}

func TestBearerToken(t *testing.T) {
	_, url := newServer(t, memsink.New(), WithBearerToken("tok"))
	body := protoBody(t, traces(1, false))
	assert.Equal(t, http.StatusUnauthorized, post(t, url+TracesPath, "application/x-protobuf", "", body).StatusCode)
	req, err := http.NewRequest(http.MethodPost, url+TracesPath, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := New(nil)
	assert.Error(t, err)
	for _, o := range []Option{WithQueueSize(0), WithMaxBodyBytes(0), WithRetryAfter(time.Millisecond)} {
		_, err := New(memsink.New(), o)
		assert.Error(t, err)
	}
}
