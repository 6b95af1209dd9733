package httpsink

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults used by [New] when no option says otherwise.
const (
	// DefaultTimeout bounds one HTTP attempt: connecting, sending the
	// body and reading the response.
	DefaultTimeout = 10 * time.Second
	// DefaultRetryInitial is the first backoff after a failed attempt.
	DefaultRetryInitial = 500 * time.Millisecond
	// DefaultRetryMax caps the backoff between two attempts.
	DefaultRetryMax = 30 * time.Second
	// DefaultRetryMaxElapsed bounds the time one Write spends retrying.
	DefaultRetryMaxElapsed = time.Minute
)

// Option configures a [Sink] created by [New].
type Option func(*config)

type config struct {
	gzip        bool
	headers     http.Header
	tokenEnv    string
	tlsConfig   *tls.Config
	timeout     time.Duration
	retryInit   time.Duration
	retryMax    time.Duration
	retryElapse time.Duration
	logger      *slog.Logger
}

// reservedHeaders are set by the sink itself; WithHeaders may not override
// them, since a wrong Content-Length or Content-Encoding corrupts requests.
var reservedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Length", "Host"}

func newConfig(opts []Option) (config, error) {
	c := config{
		headers:     http.Header{},
		timeout:     DefaultTimeout,
		retryInit:   DefaultRetryInitial,
		retryMax:    DefaultRetryMax,
		retryElapse: DefaultRetryMaxElapsed,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	var errs []string
	if c.timeout <= 0 {
		errs = append(errs, fmt.Sprintf("timeout %v is not positive", c.timeout))
	}
	if c.retryInit < 0 || c.retryMax < 0 || c.retryElapse < 0 {
		errs = append(errs, fmt.Sprintf("negative retry setting (initial %v, max %v, max elapsed %v)", c.retryInit, c.retryMax, c.retryElapse))
	}
	if c.retryElapse > 0 && (c.retryInit == 0 || c.retryMax < c.retryInit) {
		errs = append(errs, fmt.Sprintf("retry needs 0 < initial (%v) <= max (%v)", c.retryInit, c.retryMax))
	}
	for _, h := range reservedHeaders {
		if _, ok := c.headers[h]; ok {
			errs = append(errs, fmt.Sprintf("header %s is set by the sink", h))
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return c, errors.New("httpsink: invalid options: " + strings.Join(errs, "; "))
	}
	return c, nil
}

// WithGzip compresses request bodies with gzip and sends them with
// Content-Encoding: gzip. JSON of spans typically shrinks 5 to 10 times.
func WithGzip() Option {
	return func(c *config) { c.gzip = true }
}

// WithHeaders adds headers to every request. Calling it again adds to the
// headers already given. Content-Type, Content-Encoding, Content-Length and
// Host are set by the sink and make [New] fail. An Authorization header
// given here is replaced by the token of [WithTokenEnv], if that is used.
func WithHeaders(h map[string]string) Option {
	return func(c *config) {
		for k, v := range h {
			c.headers.Set(k, v)
		}
	}
}

// WithTokenEnv sends "Authorization: Bearer <token>" with every request,
// the token being the value of the environment variable name, read once by
// [New]. New fails when the variable is unset or empty. The token never
// appears in logs or errors, not even when a server echoes it back.
func WithTokenEnv(name string) Option {
	return func(c *config) { c.tokenEnv = name }
}

// WithTLSConfig sets the TLS settings of https connections (root CAs,
// client certificates, minimum version). The config is cloned by [New].
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) { c.tlsConfig = cfg }
}

// WithTimeout bounds each HTTP attempt, from connecting to reading the
// response (default [DefaultTimeout]). The Write context bounds the whole
// call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithRetry sets the retry schedule of a failed batch: exponential backoff
// from initial, doubling up to max, with full jitter (each wait is random
// between zero and the current backoff), for at most maxElapsed in total
// (defaults [DefaultRetryInitial], [DefaultRetryMax],
// [DefaultRetryMaxElapsed]). A Retry-After of a 429 or 503 response
// replaces the computed wait. maxElapsed zero turns retrying off: each
// Write makes one attempt.
func WithRetry(initial, max, maxElapsed time.Duration) Option {
	return func(c *config) {
		c.retryInit, c.retryMax, c.retryElapse = initial, max, maxElapsed
	}
}

// WithLogger sets the logger that reports retried attempts (at debug
// level). By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
