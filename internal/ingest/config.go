package ingest

import (
	"errors"
	"log/slog"
	"time"

	"github.com/stagetrace/stagetrace/rules"
)

// Defaults.
const (
	// DefaultQueueSize is the number of batches the queue holds.
	DefaultQueueSize = 256
	// DefaultMaxBodyBytes bounds a request body, compressed or not: the
	// collector's OTLP receiver has the same default gRPC message limit.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultRetryAfter is the delay a client is asked to wait when the
	// queue is full.
	DefaultRetryAfter = time.Second
)

type config struct {
	rules        *rules.Set
	stageEvents  bool
	queueSize    int
	maxBodyBytes int64
	retryAfter   time.Duration
	token        string
	logger       *slog.Logger
}

// Option configures a Receiver.
type Option func(*config)

// WithRules applies set to every span: its start phase places spans in
// stages, its end phase adds findings and costs, as in the SDK and
// collector paths.
func WithRules(set *rules.Set) Option { return func(c *config) { c.rules = set } }

// WithStageEvents synthesizes stage_start and stage_end events, as the
// exporters' option of the same name.
func WithStageEvents() Option { return func(c *config) { c.stageEvents = true } }

// WithQueueSize sets the number of batches waiting for the sink; past it,
// requests are refused with a retry delay.
func WithQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithMaxBodyBytes bounds a request's body, before and after
// decompression; a larger one is refused (HTTP 413).
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBodyBytes = n } }

// WithRetryAfter sets the delay a refused client is asked to wait.
func WithRetryAfter(d time.Duration) Option { return func(c *config) { c.retryAfter = d } }

// WithBearerToken requires every request to carry this bearer token.
func WithBearerToken(token string) Option { return func(c *config) { c.token = token } }

// WithLogger sets where write failures are logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

func newConfig(opts []Option) (config, error) {
	c := config{queueSize: DefaultQueueSize, maxBodyBytes: DefaultMaxBodyBytes, retryAfter: DefaultRetryAfter}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, c.validate()
}

func (c config) validate() error {
	var errs []error
	if c.queueSize < 1 {
		errs = append(errs, errors.New("ingest: the queue size must be at least 1"))
	}
	if c.maxBodyBytes < 1 {
		errs = append(errs, errors.New("ingest: the body size limit must be at least 1 byte"))
	}
	if c.retryAfter < time.Second {
		errs = append(errs, errors.New("ingest: the retry delay must be at least 1s (Retry-After counts seconds)"))
	}
	return errors.Join(errs...)
}
