package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/stagetrace/stagetrace/internal/backoff"
)

// Handler receives alerts. The monitor calls its handlers one alert at a
// time, in order, on a goroutine of its own (monitor.WithAlertHandlers); a
// handler should return when ctx is done.
type Handler interface {
	HandleAlert(ctx context.Context, a Alert) error
}

// HandlerFunc makes a function a Handler.
type HandlerFunc func(ctx context.Context, a Alert) error

// HandleAlert calls f.
func (f HandlerFunc) HandleAlert(ctx context.Context, a Alert) error { return f(ctx, a) }

// SlogHandler returns a Handler logging each alert to l, as the message
// "alert firing" or "alert resolved" with the attributes alert (the
// name), state, alert_level, message, data and run_id: critical alerts at
// level Error, warnings at Warn, the rest at Info.
func SlogHandler(l *slog.Logger) Handler {
	return HandlerFunc(func(ctx context.Context, a Alert) error {
		level := slog.LevelInfo
		switch a.Level {
		case LevelCritical:
			level = slog.LevelError
		case LevelWarning:
			level = slog.LevelWarn
		}
		data := make([]any, 0, len(a.Data))
		for _, k := range slices.Sorted(maps.Keys(a.Data)) {
			data = append(data, slog.Any(k, a.Data[k]))
		}
		attrs := []slog.Attr{
			slog.String("alert", a.Name), slog.String("state", string(a.State)),
			slog.String("alert_level", string(a.Level)), slog.String("message", a.Message),
			slog.Group("data", data...),
		}
		if a.RunID != "" {
			attrs = append(attrs, slog.String("run_id", a.RunID))
		}
		l.LogAttrs(ctx, level, "alert "+string(a.State), attrs...)
		return nil
	})
}

// Defaults of a Webhook.
const (
	DefaultWebhookTimeout  = 5 * time.Second
	DefaultWebhookAttempts = 4
	DefaultWebhookBackoff  = 200 * time.Millisecond
	DefaultWebhookMaxWait  = 5 * time.Second
)

// Webhook is a Handler posting each alert as JSON to a URL.
type Webhook struct {
	url      string
	display  string // the URL without its password, for errors
	client   *http.Client
	header   http.Header
	timeout  time.Duration
	attempts int
	initial  time.Duration
	maxWait  time.Duration
}

// WebhookOption configures a Webhook.
type WebhookOption func(*Webhook)

// WithWebhookClient sets the HTTP client; default a client of its own.
func WithWebhookClient(c *http.Client) WebhookOption { return func(w *Webhook) { w.client = c } }

// WithWebhookHeader adds a header to every request (an authorization
// token, say).
func WithWebhookHeader(key, value string) WebhookOption {
	return func(w *Webhook) { w.header.Add(key, value) }
}

// WithWebhookTimeout bounds one attempt. Default DefaultWebhookTimeout.
func WithWebhookTimeout(d time.Duration) WebhookOption { return func(w *Webhook) { w.timeout = d } }

// WithWebhookRetry sets how many attempts one alert gets, at most, and the
// backoff between them: a random wait up to initial, doubling up to
// maxWait. Defaults DefaultWebhookAttempts, DefaultWebhookBackoff and
// DefaultWebhookMaxWait.
func WithWebhookRetry(attempts int, initial, maxWait time.Duration) WebhookOption {
	return func(w *Webhook) { w.attempts, w.initial, w.maxWait = attempts, initial, maxWait }
}

// NewWebhook returns a Handler posting alerts to rawURL (http or https).
// A request answered 408, 429 or 5xx, or that fails on the way, is tried
// again after a backoff, up to the attempts configured; other answers
// are final.
func NewWebhook(rawURL string, opts ...WebhookOption) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("alert: webhook: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alert: webhook: %q is not an http or https URL", u.Redacted())
	}
	w := &Webhook{
		url: rawURL, display: u.Redacted(), client: &http.Client{}, header: http.Header{},
		timeout: DefaultWebhookTimeout, attempts: DefaultWebhookAttempts,
		initial: DefaultWebhookBackoff, maxWait: DefaultWebhookMaxWait,
	}
	for _, o := range opts {
		if o != nil {
			o(w)
		}
	}
	switch {
	case w.client == nil:
		return nil, errors.New("alert: webhook: nil client")
	case w.timeout <= 0:
		return nil, fmt.Errorf("alert: webhook: timeout %v is not positive", w.timeout)
	case w.attempts < 1:
		return nil, fmt.Errorf("alert: webhook: %d attempts: want at least 1", w.attempts)
	case w.initial <= 0 || w.maxWait < w.initial:
		return nil, fmt.Errorf("alert: webhook: backoff needs 0 < initial (%v) <= max (%v)", w.initial, w.maxWait)
	}
	return w, nil
}

// HandleAlert posts a as JSON, retrying as configured until it is
// accepted (2xx), refused for good, out of attempts, or ctx is done.
func (w *Webhook) HandleAlert(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("alert: webhook: %w", err)
	}
	bo := backoff.New(w.initial, w.maxWait)
	for attempt := 1; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt == w.attempts {
			return fmt.Errorf("alert: webhook POST %s: attempt %d of %d: %w", w.display, attempt, w.attempts, err)
		}
		if serr := backoff.Sleep(ctx, bo.Next()); serr != nil {
			return fmt.Errorf("alert: webhook POST %s: %w (after %d attempts; last error: %w)", w.display, serr, attempt, err)
		}
	}
}

// post makes one attempt; retry says whether another may succeed.
func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header = w.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	code := resp.StatusCode
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500,
		fmt.Errorf("status %s", resp.Status)
}
