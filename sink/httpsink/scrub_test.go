package httpsink_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/redact"
	"github.com/stagetrace/stagetrace/sink/httpsink"
)

// rawServer answers every request with the raw response respond makes of
// the request's Authorization header, status line included, as a hostile
// or broken ingest server may.
func rawServer(t *testing.T, respond func(auth string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					var body bytes.Buffer
					_, _ = body.ReadFrom(req.Body)
					if _, err := c.Write([]byte(respond(req.Header.Get("Authorization")))); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/ingest"
}

func response(status, body string) string {
	return fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", status, len(body), body)
}

// leaked returns the first piece of token at least redact.MinScrubPrefix
// long, raw or JSON-escaped, that text holds.
func leaked(text, token string) string {
	js, _ := json.Marshal(token)
	for _, form := range []string{token, string(js[1 : len(js)-1])} {
		for i := 0; i+redact.MinScrubPrefix <= len(form); i++ {
			if p := form[:i+redact.MinScrubPrefix]; strings.Contains(text, p) {
				return p
			}
		}
	}
	return ""
}

func TestTokenEchoedByServerIsScrubbed(t *testing.T) {
	const token = "st/secret+0123456789<abcdef>&ghijklmnop"
	for _, tc := range []struct {
		name    string
		respond func(auth string) string
	}{
		{"status line", func(auth string) string { return response("400 "+auth, "") }},
		{"retried status line", func(auth string) string { return response("503 "+auth, "") }},
		{"body cut through the token", func(auth string) string {
			return response("400 Bad Request", strings.Repeat("x", 512-len("Bearer ")-12)+auth)
		}},
		{"JSON-escaped body", func(auth string) string {
			js, _ := json.Marshal(map[string]string{"error": "bad credentials", "got": auth})
			return response("401 Unauthorized", string(js))
		}},
		{"JSON with escaped slashes", func(auth string) string {
			js, _ := json.Marshal(auth)
			return response("401 Unauthorized", strings.ReplaceAll(string(js), "/", `\/`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STAGETRACE_TEST_TOKEN", token)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			// A few retries, each logged, then the last error.
			retry := httpsink.WithRetry(time.Millisecond, time.Millisecond, 50*time.Millisecond)
			s := newSink(t, rawServer(t, tc.respond), retry,
				httpsink.WithTokenEnv("STAGETRACE_TEST_TOKEN"), httpsink.WithLogger(logger))
			err := s.Write(context.Background(), testBatch("run-s", 1, 0))
			require.Error(t, err)
			assert.Empty(t, leaked(err.Error(), token), "error: %s", err)
			assert.Empty(t, leaked(logs.String(), token), "logs: %s", logs.String())
			assert.Contains(t, err.Error(), redact.TokenMask)
		})
	}
}

func TestSecretHeaderEchoedByServerIsScrubbed(t *testing.T) {
	const key = "k3y-0123456789abcdefghij"
	s := newSink(t, rawServer(t, func(string) string { return response("400 key "+key+" refused", "") }),
		httpsink.WithHeaders(map[string]string{"X-Api-Key": key}))
	err := s.Write(context.Background(), testBatch("run-s", 1, 0))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key[:redact.MinScrubPrefix])
}
