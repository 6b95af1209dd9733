package httpsink_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/httpsink"
)

func TestNewRejectsBadURLs(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"empty", "", "not absolute"},
		{"relative", "ingest/v1", "not absolute"},
		{"no scheme", "localhost:8080/v1", `scheme "localhost" is not http or https`},
		{"ftp", "ftp://ingest.example.com/", `scheme "ftp" is not http or https`},
		{"no host", "https:///v1/batches", "no host"},
		{"port only", "http://:8080/v1", "no host"},
		{"unparsable", "http://[::1/v1", "invalid URL"},
		{"bad escape", "http://example.com/%zz", "invalid URL"},
		{"control char", "http://example.com/\x7f", "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := httpsink.New(tt.url)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "httpsink: "), err.Error())
		})
	}
}

func TestNewKeepsPasswordsOutOfErrors(t *testing.T) {
	for _, u := range []string{"ftp://admin:hunter2@example.com/", "https://admin:hunter2@/v1", "http://admin:hunter2@[::1/v1"} {
		_, err := httpsink.New(u)
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "hunter2", u)
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	tests := map[string]httpsink.Option{
		"zero timeout":      httpsink.WithTimeout(0),
		"negative retry":    httpsink.WithRetry(-time.Second, time.Second, time.Minute),
		"max below initial": httpsink.WithRetry(time.Second, time.Millisecond, time.Minute),
		"content type":      httpsink.WithHeaders(map[string]string{"content-type": "text/plain"}),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := httpsink.New("http://127.0.0.1:1/", opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "httpsink: invalid options")
		})
	}
}

func TestNewRequiresTokenVariable(t *testing.T) {
	t.Setenv("STAGETRACE_TEST_TOKEN", "")
	_, err := httpsink.New("http://127.0.0.1:1/", httpsink.WithTokenEnv("STAGETRACE_TEST_TOKEN"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STAGETRACE_TEST_TOKEN")
}

func TestWritePostsOneJSONBodyPerBatch(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			t.Setenv("STAGETRACE_TEST_TOKEN", "st-live-9f8e7d6c5b4a")
			srv := newServer(t, nil)
			opts := []httpsink.Option{
				httpsink.WithTokenEnv("STAGETRACE_TEST_TOKEN"),
				httpsink.WithHeaders(map[string]string{"X-Tenant": "acme", "Authorization": "Basic overridden"}),
			}
			if gz {
				opts = append(opts, httpsink.WithGzip())
			}
			s := newSink(t, srv.URL+"/v1/batches", opts...)
			b := testBatch("run-1", 3, 2)
			require.NoError(t, s.Write(context.Background(), b))
			require.NoError(t, s.Write(context.Background(), stagetrace.Batch{}), "an empty batch sends nothing")

			reqs := srv.received()
			require.Len(t, reqs, 1)
			h := reqs[0].header
			assert.Equal(t, "application/json", h.Get("Content-Type"))
			assert.Equal(t, "Bearer st-live-9f8e7d6c5b4a", h.Get("Authorization"))
			assert.Equal(t, "acme", h.Get("X-Tenant"))
			assert.Equal(t, "stagetrace-httpsink", h.Get("User-Agent"))
			if gz {
				assert.Equal(t, "gzip", h.Get("Content-Encoding"))
			} else {
				assert.Empty(t, h.Get("Content-Encoding"))
			}
			got := stagetrace.Batch{Spans: reqs[0].body.Spans, Events: reqs[0].body.Events}
			assert.Equal(t, encodeLines(b), encodeLines(got), "the server decodes exactly the records sent")
		})
	}
}

func TestRetryRules(t *testing.T) {
	tests := []struct {
		status int
		retry  bool
	}{
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusGatewayTimeout, true},
		{http.StatusRequestTimeout, true},
		{http.StatusTooManyRequests, true},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusRequestEntityTooLarge, false},
		{http.StatusUnprocessableEntity, false},
		{http.StatusFound, false},
		{http.StatusPermanentRedirect, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			// The first two requests fail with the status, the third succeeds.
			srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) int {
				if n <= 2 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
					return tt.status
				}
				return http.StatusOK
			})
			s := newSink(t, srv.URL, fastRetry)
			err := s.Write(context.Background(), testBatch("run-r", 1, 0))
			if tt.retry {
				require.NoError(t, err)
				assert.Equal(t, 3, srv.count(), "two failures retried, then delivered")
				return
			}
			require.Error(t, err)
			assert.Equal(t, 1, srv.count(), "no retry")
			var se *httpsink.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.status, se.StatusCode)
			assert.True(t, se.Permanent())
		})
	}
}

func TestRetryGivesUpAtMaxElapsed(t *testing.T) {
	srv := newServer(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusBadGateway })
	s := newSink(t, srv.URL, httpsink.WithRetry(10*time.Millisecond, 20*time.Millisecond, 200*time.Millisecond))
	start := time.Now()
	err := s.Write(context.Background(), testBatch("run-g", 1, 0))
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up after")
	assert.Less(t, elapsed, time.Second)
	assert.Greater(t, srv.count(), 3, "retried until the limit")
	var se *httpsink.StatusError
	require.ErrorAs(t, err, &se)
	assert.False(t, se.Permanent())
}

func TestRetryOffMakesOneAttempt(t *testing.T) {
	srv := newServer(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusServiceUnavailable })
	s := newSink(t, srv.URL, httpsink.WithRetry(time.Millisecond, time.Millisecond, 0))
	require.Error(t, s.Write(context.Background(), testBatch("run-o", 1, 0)))
	assert.Equal(t, 1, srv.count())
}

func TestRetryAfterIsHonoured(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter func() string
		minWait    time.Duration
		maxWait    time.Duration
	}{
		// The upper bounds leave room for -race on a loaded machine.
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }, 950 * time.Millisecond, 5 * time.Second},
		// An HTTP-date has whole seconds: 2 s ahead is 1 to 2 s from now.
		{"503 http-date", http.StatusServiceUnavailable, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, 900 * time.Millisecond, 6 * time.Second},
		// Far below the 30 s a wrongly honoured header would cost, with
		// room for a loaded machine.
		{"503 date in the past", http.StatusServiceUnavailable, func() string { return "Wed, 21 Oct 2015 07:28:00 GMT" }, 0, 5 * time.Second},
		{"500 ignores it", http.StatusInternalServerError, func() string { return "30" }, 0, 5 * time.Second},
		{"garbage ignored", http.StatusTooManyRequests, func() string { return "soon" }, 0, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) int {
				if n == 1 {
					w.Header().Set("Retry-After", tt.retryAfter())
					return tt.status
				}
				return http.StatusOK
			})
			s := newSink(t, srv.URL, fastRetry)
			start := time.Now()
			require.NoError(t, s.Write(context.Background(), testBatch("run-ra", 1, 0)))
			elapsed := time.Since(start)
			assert.Equal(t, 2, srv.count())
			assert.GreaterOrEqual(t, elapsed, tt.minWait)
			assert.Less(t, elapsed, tt.maxWait)
		})
	}
}

func TestRetryAfterPastTheLimitFailsAtOnce(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("Retry-After", "120")
		return http.StatusTooManyRequests
	})
	s := newSink(t, srv.URL, httpsink.WithRetry(time.Millisecond, time.Millisecond, 10*time.Second))
	start := time.Now()
	err := s.Write(context.Background(), testBatch("run-p", 1, 0))
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second, "no point waiting past the limit")
	assert.Contains(t, err.Error(), "past the retry limit")
	var se *httpsink.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 120*time.Second, se.RetryAfter)
	assert.Equal(t, 120*time.Second, se.RetryDelay(), "what delivery waits before it writes again")
	assert.Equal(t, 1, srv.count())
}

func TestRetryAfterPastTheDeadlineFailsAtOnce(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("Retry-After", "5")
		return http.StatusServiceUnavailable
	})
	s := newSink(t, srv.URL, httpsink.WithRetry(time.Millisecond, time.Millisecond, time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := s.Write(ctx, testBatch("run-d", 1, 0))
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.Contains(t, err.Error(), "past the Write deadline")
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 2 {
			// Drop the connection without an answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	s := newSink(t, srv.URL, fastRetry)
	require.NoError(t, s.Write(context.Background(), testBatch("run-n", 2, 1)))
	assert.Equal(t, int32(3), calls.Load())
}

func TestConnectionRefusedIsRetriedUntilTheLimit(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	s := newSink(t, url, httpsink.WithRetry(5*time.Millisecond, 10*time.Millisecond, 150*time.Millisecond))
	err := s.Write(context.Background(), testBatch("run-c", 1, 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up after")
	assert.Contains(t, err.Error(), "connection refused")
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	defer close(release)
	s := newSink(t, srv.URL, fastRetry, httpsink.WithTimeout(100*time.Millisecond))
	require.NoError(t, s.Write(context.Background(), testBatch("run-t", 1, 0)))
	assert.Equal(t, int32(2), calls.Load())
}

func TestWriteReturnsPromptlyWhenContextIsDone(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"while waiting to retry", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}},
		{"while the server hangs", func(w http.ResponseWriter, r *http.Request) {
			// Reading the body to its end lets the server see the client
			// go away, which ends r's context.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			s := newSink(t, srv.URL, httpsink.WithRetry(50*time.Millisecond, time.Second, time.Hour), httpsink.WithTimeout(time.Hour))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := s.Write(ctx, testBatch("run-x", 1, 0))
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), time.Second)
		})
	}
}

func TestTokenNeverAppearsInErrorsOrLogs(t *testing.T) {
	const token = "st-secret-0123456789abcdef"
	t.Setenv("STAGETRACE_TEST_TOKEN", token)
	// The server echoes the Authorization header in its error bodies.
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		w.Header().Set("Content-Type", "text/plain")
		if n == 1 {
			return http.StatusBadGateway
		}
		return http.StatusUnauthorized
	})
	srv.body = func(n int, r *http.Request) string {
		if n == 1 {
			return "upstream said: " + r.Header.Get("Authorization")
		}
		return "bad auth " + r.Header.Get("Authorization")
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSink(t, srv.URL, fastRetry, httpsink.WithTokenEnv("STAGETRACE_TEST_TOKEN"), httpsink.WithLogger(logger))
	err := s.Write(context.Background(), testBatch("run-s", 1, 0))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), token)
	assert.Contains(t, err.Error(), "bad auth Bearer [token]")
	require.Contains(t, logs.String(), "retrying", "the 502 was retried and logged")
	assert.NotContains(t, logs.String(), token)
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()

	t.Run("unknown CA fails without retry", func(t *testing.T) {
		s := newSink(t, srv.URL, httpsink.WithRetry(time.Second, time.Second, time.Minute))
		start := time.Now()
		err := s.Write(context.Background(), testBatch("run-tls", 1, 0))
		require.Error(t, err)
		var unknown x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &unknown)
		assert.Less(t, time.Since(start), time.Second, "a certificate error is not retried")
	})
	t.Run("trusted CA", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		s := newSink(t, srv.URL, httpsink.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
		require.NoError(t, s.Write(context.Background(), testBatch("run-tls", 1, 0)))
	})
}

func TestShutdown(t *testing.T) {
	srv := newServer(t, nil)
	// The server's goroutines are the test's; the sink's must be gone.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, err := httpsink.New(srv.URL)
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), testBatch("run-1", 1, 0)))
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, s.Shutdown(context.Background()), "idempotent")
	assert.ErrorIs(t, s.Write(context.Background(), testBatch("run-1", 1, 0)), stagetrace.ErrClosed)
	assert.Equal(t, 1, srv.count())
}

func TestShutdownCancelsWritesInFlightAtItsDeadline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	s, err := httpsink.New(srv.URL, httpsink.WithTimeout(time.Hour))
	require.NoError(t, err)

	writeErr := make(chan error, 1)
	go func() { writeErr <- s.Write(context.Background(), testBatch("run-h", 1, 0)) }()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "1 writes")
	assert.Less(t, time.Since(start), time.Second)

	select {
	case err := <-writeErr:
		assert.ErrorIs(t, err, stagetrace.ErrClosed, "the write is cut short by Shutdown")
	case <-time.After(2 * time.Second):
		t.Fatal("Write still running after Shutdown cancelled it")
	}
	assert.NoError(t, s.Shutdown(context.Background()), "a second call finds nothing in flight")
}

func TestWriteIsSafeForConcurrentUse(t *testing.T) {
	srv := newServer(t, nil)
	s := newSink(t, srv.URL, httpsink.WithGzip())
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() { errs <- s.Write(context.Background(), testBatch("run-"+string(rune('a'+i)), 20, 5)) }()
	}
	for range writers {
		require.NoError(t, <-errs)
	}
	reqs := srv.received()
	require.Len(t, reqs, writers)
	runs := map[string]int{}
	for _, r := range reqs {
		for _, sp := range r.body.Spans {
			runs[sp.RunID]++
		}
		assert.Len(t, r.body.Events, 5)
	}
	assert.Len(t, runs, writers)
	for run, n := range runs {
		assert.Equal(t, 20, n, run)
	}
}

func TestStatusErrorMessage(t *testing.T) {
	err := &httpsink.StatusError{URL: "https://ingest.example.com/v1", StatusCode: 503, Status: "503 Service Unavailable", Body: "try later"}
	assert.Equal(t, `httpsink: POST https://ingest.example.com/v1: 503 Service Unavailable: "try later"`, err.Error())
	assert.False(t, err.Permanent())
	assert.True(t, (&httpsink.StatusError{StatusCode: 404}).Permanent())
	assert.False(t, errors.Is(err, context.Canceled))
}
