package httpsink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace/internal/backoff"
)

// maxErrorBody is how much of a failed response's body an error quotes.
const maxErrorBody = 512

// maxRetryAfter caps a Retry-After in seconds before it is converted, so a
// huge value cannot overflow a Duration. Any wait this long is past every
// sensible retry budget anyway.
const maxRetryAfter = 24 * time.Hour

// StatusError is the error of a request answered with a status other than
// 2xx.
type StatusError struct {
	URL        string        // the URL posted to, without user info or query
	StatusCode int           // the response's status code
	Status     string        // the response's status line, "503 Service Unavailable", secrets scrubbed
	Body       string        // the start of the response body, secrets scrubbed
	RetryAfter time.Duration // the Retry-After of a 429 or 503, 0 when absent
}

// Error returns "httpsink: POST <url>: <status>", with the start of the
// response body when there was one.
func (e *StatusError) Error() string {
	msg := "httpsink: POST " + e.URL + ": " + e.Status
	if e.Body != "" {
		msg += ": " + strconv.Quote(e.Body)
	}
	return msg
}

// Permanent reports whether sending the same request again cannot succeed:
// true for 3xx and 4xx other than 408 (Request Timeout) and 429 (Too Many
// Requests). Sinks in front of this one, such as the delivery package, do
// not retry a batch whose error says so.
func (e *StatusError) Permanent() bool { return !retryableStatus(e.StatusCode) }

// RetryDelay returns the wait the server asked for before the next
// attempt (RetryAfter), zero when it gave none. Sinks in front of this one,
// such as the delivery package, wait at least that long before they write
// again, also when this sink gave up at once because the wait was past its
// own retry limit.
func (e *StatusError) RetryDelay() time.Duration { return e.RetryAfter }

// retryableStatus says which statuses are worth another attempt: the
// server was overloaded, timed out or failed, rather than refusing the
// request itself.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// attemptResult is the outcome of one HTTP attempt.
type attemptResult struct {
	err        error
	retry      bool
	retryAfter time.Duration // from the server; < 0 when it gave none
}

// send posts body, retrying as the config says, until it succeeds, fails
// for good, runs out of retry time, or ctx is done.
func (s *Sink) send(ctx context.Context, body []byte) error {
	start := time.Now()
	bo := backoff.New(s.cfg.retryInit, s.cfg.retryMax)
	for attempt := 1; ; attempt++ {
		res := s.attempt(ctx, body)
		if res.err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return s.cancelled(ctx, attempt, res.err)
		}
		if !res.retry || s.cfg.retryElapse == 0 {
			return res.err
		}
		wait := bo.Next()
		if res.retryAfter >= 0 {
			wait = res.retryAfter
		}
		elapsed := time.Since(start)
		if elapsed+wait > s.cfg.retryElapse {
			return fmt.Errorf("%w (gave up after %d attempts in %v: next retry in %v is past the retry limit of %v)",
				res.err, attempt, elapsed.Round(time.Millisecond), wait.Round(time.Millisecond), s.cfg.retryElapse)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// Waiting cannot help: the caller's deadline comes first.
			return fmt.Errorf("%w (gave up after %d attempts: next retry in %v is past the Write deadline: %w)",
				res.err, attempt, wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		s.cfg.logger.Debug("httpsink: retrying batch", "url", s.display, "attempt", attempt,
			"wait", wait, "error", s.scrub(res.err.Error()))
		if backoff.Sleep(ctx, wait) != nil {
			return s.cancelled(ctx, attempt, res.err)
		}
	}
}

// cancelled is the error of a send cut short by ctx: it wraps both ctx's
// cause and the last attempt's error.
func (s *Sink) cancelled(ctx context.Context, attempts int, last error) error {
	return fmt.Errorf("httpsink: POST %s: %w (after %d attempts; last error: %w)",
		s.display, context.Cause(ctx), attempts, last)
}

// attempt makes one request.
func (s *Sink) attempt(ctx context.Context, body []byte) attemptResult {
	actx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: fmt.Errorf("httpsink: POST %s: %w", s.display, err)}
	}
	req.Header = s.header.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the full URL, user info included
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("attempt timed out after %v: %w", s.cfg.timeout, err)
		}
		res := attemptResult{retry: !permanentTransportError(err), retryAfter: -1}
		if msg := s.scrub(err.Error()); msg != err.Error() {
			res.err = fmt.Errorf("httpsink: POST %s: %s", s.display, msg)
		} else {
			res.err = fmt.Errorf("httpsink: POST %s: %w", s.display, err)
		}
		return res
	}
	defer drain(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return attemptResult{}
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	se := &StatusError{
		URL:        s.display,
		StatusCode: resp.StatusCode,
		Status:     s.scrub(resp.Status),
		Body:       s.scrub(strings.TrimSpace(string(snippet))),
	}
	res := attemptResult{err: se, retry: retryableStatus(resp.StatusCode), retryAfter: -1}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			se.RetryAfter = d
			res.retryAfter = d
		}
	}
	return res
}

// permanentTransportError reports errors that another attempt cannot fix:
// the server's certificate was rejected.
func permanentTransportError(err error) bool {
	var (
		verify     *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalidCrt x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknownCA) ||
		errors.As(err, &hostname) || errors.As(err, &invalidCrt)
}

// parseRetryAfter reads a Retry-After value: a number of seconds or an
// HTTP-date. A date in the past means now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}
