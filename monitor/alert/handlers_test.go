package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor/alert"
)

func TestSlogHandler(t *testing.T) {
	var buf bytes.Buffer
	h := alert.SlogHandler(slog.New(slog.NewJSONHandler(&buf, nil)))
	require.NoError(t, h.HandleAlert(context.Background(), alert.Alert{
		Name: "cost", Level: alert.LevelCritical, State: alert.StateFiring, Message: "too dear", RunID: "r1",
		Data: map[string]any{"value": 0.3},
	}))
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "ERROR", rec["level"])
	assert.Equal(t, "alert firing", rec["msg"])
	assert.Equal(t, "cost", rec["alert"])
	assert.Equal(t, "critical", rec["alert_level"])
	assert.Equal(t, "firing", rec["state"])
	assert.Equal(t, "too dear", rec["message"])
	assert.Equal(t, "r1", rec["run_id"])
	assert.Equal(t, map[string]any{"value": 0.3}, rec["data"])
}

func TestWebhook(t *testing.T) {
	sent := alert.Alert{Name: "slow", Level: alert.LevelWarning, State: alert.StateFiring, Message: "p95", Time: t0,
		Data: map[string]any{"value": 2500.0}}
	cases := []struct {
		name     string
		answers  []int // status of each attempt; the last repeats
		attempts int32
		wantErr  string
	}{
		{"accepted at once", []int{200}, 1, ""},
		{"retried after 503 and 429", []int{503, 429, 204}, 3, ""},
		{"refused for good", []int{400}, 1, "400 Bad Request"},
		{"out of attempts", []int{500}, 3, "attempt 3 of 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				assert.Equal(t, "Bearer t0ken", r.Header.Get("Authorization"))
				body, _ = io.ReadAll(r.Body)
				w.WriteHeader(c.answers[min(i, len(c.answers)-1)])
			}))
			defer srv.Close()
			require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
			wh, err := alert.NewWebhook(srv.URL, alert.WithWebhookHeader("Authorization", "Bearer t0ken"),
				alert.WithWebhookRetry(3, time.Millisecond, 4*time.Millisecond))
			require.NoError(t, err)
			err = wh.HandleAlert(context.Background(), sent)
			if c.wantErr == "" {
				require.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, c.wantErr)
			}
			assert.Equal(t, c.attempts, n.Load())
			var got alert.Alert
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, sent.Name, got.Name)
			assert.Equal(t, sent.State, got.State)
			assert.True(t, sent.Time.Equal(got.Time))
			assert.Equal(t, 2500.0, got.Data["value"])
		})
	}
}

func TestWebhookStopsWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	wh, err := alert.NewWebhook(srv.URL, alert.WithWebhookRetry(1000, time.Second, time.Minute))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = wh.HandleAlert(ctx, alert.Alert{Name: "x"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestNewWebhookRejectsBadConfig(t *testing.T) {
	for _, c := range []struct {
		url  string
		opts []alert.WebhookOption
		want string
	}{
		{"ftp://127.0.0.1/x", nil, "not an http or https URL"},
		{"http://user:secret@/x", nil, "not an http or https URL"},
		{"http://127.0.0.1/x", []alert.WebhookOption{alert.WithWebhookRetry(0, time.Second, time.Second)}, "0 attempts"},
		{"http://127.0.0.1/x", []alert.WebhookOption{alert.WithWebhookRetry(2, time.Second, time.Millisecond)}, "backoff"},
		{"http://127.0.0.1/x", []alert.WebhookOption{alert.WithWebhookTimeout(0)}, "timeout"},
	} {
		_, err := alert.NewWebhook(c.url, c.opts...)
		assert.ErrorContains(t, err, c.want, c.url)
		if err != nil {
			assert.NotContains(t, err.Error(), "secret")
		}
	}
}

func TestAlertEventThroughJSON(t *testing.T) {
	a := alert.Alert{Name: "budget", Level: alert.LevelInfo, State: alert.StateFiring, Message: "run r1: run_cost = 0.6 > 0.5",
		Time: t0, RunID: "r1", Data: map[string]any{"value": 0.6, "count": int64(3), "stat": "run_cost"}}
	line, err := json.Marshal(a.Event())
	require.NoError(t, err)
	var ev stagetrace.TraceEvent
	require.NoError(t, json.Unmarshal(line, &ev), "%s", line)
	back, ok := alert.FromEvent(ev)
	require.True(t, ok)
	assert.Equal(t, a.Name, back.Name)
	assert.Equal(t, a.RunID, back.RunID)
	assert.True(t, a.Time.Equal(back.Time))
	assert.Equal(t, a.Data, back.Data)

	_, ok = alert.FromEvent(stagetrace.TraceEvent{Name: attributes.EventMetric})
	assert.False(t, ok)
}
