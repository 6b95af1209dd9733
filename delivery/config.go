package delivery

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Defaults used by [New] when no option says otherwise.
const (
	// DefaultQueueSize is the number of batches held in memory.
	DefaultQueueSize = 256
	// DefaultSpillLimit is the most bytes the spill segments may hold.
	DefaultSpillLimit = 256 << 20
	// DefaultMaxRetryElapsed is how long a batch from memory is retried
	// before it is spilled (or dropped, without spill).
	DefaultMaxRetryElapsed = 30 * time.Second
	// DefaultBackoffInitial is the first wait after a failed write.
	DefaultBackoffInitial = 100 * time.Millisecond
	// DefaultBackoffMax caps the wait between two attempts.
	DefaultBackoffMax = 5 * time.Second
	// DefaultMaxRetryAfter caps the pause a sink's error may ask for
	// (an HTTP Retry-After) before the next write.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultWriteTimeout bounds one call to the wrapped sink's Write.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultLogInterval is the least time between two warnings.
	DefaultLogInterval = 10 * time.Second
)

// Policy says what Write does with a batch when the queue is full.
type Policy uint8

const (
	// Drop drops the batch and counts it. It is the default.
	Drop Policy = iota
	// Spill writes the batch to a segment file in the spill directory
	// ([WithSpillDir]), to be replayed in order once the sink keeps up,
	// also by a later process.
	Spill
)

// String returns "drop" or "spill".
func (p Policy) String() string {
	switch p {
	case Drop:
		return "drop"
	case Spill:
		return "spill"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Option configures a [Sink] created by [New].
type Option func(*config)

type config struct {
	name            string
	queueSize       int
	policy          Policy
	spillDir        string
	spillLimit      int64
	segmentSize     int64
	maxRetryElapsed time.Duration
	backoffInitial  time.Duration
	backoffMax      time.Duration
	maxRetryAfter   time.Duration
	writeTimeout    time.Duration
	logger          *slog.Logger
	logInterval     time.Duration
	meterProvider   metric.MeterProvider
}

func newConfig(opts []Option) (config, error) {
	c := config{
		queueSize:       DefaultQueueSize,
		spillLimit:      DefaultSpillLimit,
		maxRetryElapsed: DefaultMaxRetryElapsed,
		backoffInitial:  DefaultBackoffInitial,
		backoffMax:      DefaultBackoffMax,
		maxRetryAfter:   DefaultMaxRetryAfter,
		writeTimeout:    DefaultWriteTimeout,
		logInterval:     DefaultLogInterval,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	var errs []string
	if c.queueSize < 1 {
		errs = append(errs, fmt.Sprintf("queue size %d is less than 1", c.queueSize))
	}
	switch c.policy {
	case Drop:
		if c.spillDir != "" {
			errs = append(errs, "WithSpillDir needs OnFull(Spill)")
		}
	case Spill:
		if c.spillDir == "" {
			errs = append(errs, "OnFull(Spill) needs WithSpillDir")
		}
	default:
		errs = append(errs, fmt.Sprintf("unknown policy %v", c.policy))
	}
	if c.spillLimit <= headerSize {
		errs = append(errs, fmt.Sprintf("spill limit %d is too small", c.spillLimit))
	}
	if c.segmentSize < 0 {
		errs = append(errs, fmt.Sprintf("segment size %d is negative", c.segmentSize))
	}
	if c.segmentSize == 0 {
		// Small enough that a delivered segment is soon deleted, so the
		// limit mostly counts pending bytes; large enough that rolling
		// (one sync) is rare.
		c.segmentSize = min(max(c.spillLimit/8, 64<<10), 16<<20)
	}
	if c.maxRetryElapsed < 0 {
		errs = append(errs, fmt.Sprintf("max retry elapsed %v is negative", c.maxRetryElapsed))
	}
	if c.backoffInitial <= 0 || c.backoffMax < c.backoffInitial {
		errs = append(errs, fmt.Sprintf("backoff needs 0 < initial (%v) <= max (%v)", c.backoffInitial, c.backoffMax))
	}
	if c.maxRetryAfter < 0 {
		errs = append(errs, fmt.Sprintf("max retry after %v is negative", c.maxRetryAfter))
	}
	if c.writeTimeout <= 0 {
		errs = append(errs, fmt.Sprintf("write timeout %v is not positive", c.writeTimeout))
	}
	if c.logInterval < 0 {
		errs = append(errs, fmt.Sprintf("log interval %v is negative", c.logInterval))
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if len(errs) > 0 {
		return c, errors.New("delivery: invalid options: " + strings.Join(errs, "; "))
	}
	return c, nil
}

// WithName names the wrapped sink in metrics (attribute stagetrace.sink),
// logs and errors. The default is its Go type, like "*httpsink.Sink".
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithQueueSize sets how many batches wait in memory for the wrapped sink
// (default [DefaultQueueSize]).
func WithQueueSize(batches int) Option {
	return func(c *config) { c.queueSize = batches }
}

// OnFull sets what Write does with a batch when the queue is full: [Drop]
// (the default) or [Spill].
func OnFull(p Policy) Option {
	return func(c *config) { c.policy = p }
}

// WithSpillDir sets the directory of spill segments, created if missing.
// Required by OnFull(Spill). One Sink at a time may use a directory.
func WithSpillDir(dir string) Option {
	return func(c *config) { c.spillDir = dir }
}

// WithSpillLimit sets the most bytes the spill segments may hold (default
// [DefaultSpillLimit]); past it, batches are dropped and counted.
func WithSpillLimit(bytes int64) Option {
	return func(c *config) { c.spillLimit = bytes }
}

// WithSegmentSize sets the size at which a spill segment is closed and a
// new one started (default: an eighth of the spill limit, between 64 KiB
// and 16 MiB). A segment is deleted once every record in it is delivered.
func WithSegmentSize(bytes int64) Option {
	return func(c *config) { c.segmentSize = bytes }
}

// WithMaxRetryElapsed sets how long a batch from memory is retried after
// failed writes (default [DefaultMaxRetryElapsed]); then it is spilled, or
// dropped and counted without spill. Spilled batches are retried until
// they are delivered.
func WithMaxRetryElapsed(d time.Duration) Option {
	return func(c *config) { c.maxRetryElapsed = d }
}

// WithBackoff sets the wait after a failed write: exponential from
// initial, doubling up to max, with full jitter (defaults
// [DefaultBackoffInitial], [DefaultBackoffMax]).
func WithBackoff(initial, max time.Duration) Option {
	return func(c *config) { c.backoffInitial, c.backoffMax = initial, max }
}

// WithMaxRetryAfter caps the pause a failed write's error may ask for
// before the next write (default [DefaultMaxRetryAfter]). An error asks
// for one with a method RetryDelay() time.Duration, as httpsink's
// StatusError does with a 429 or 503 response's Retry-After. The worker
// then writes nothing, this batch or the next, until the pause is over;
// the pause counts against the batch's retry time ([WithMaxRetryElapsed]).
// Zero ignores such pauses.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *config) { c.maxRetryAfter = d }
}

// WithWriteTimeout bounds each call to the wrapped sink's Write, through
// its context (default [DefaultWriteTimeout]). A sink that retries on its
// own should give up before this.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) { c.writeTimeout = d }
}

// WithLogger sets the logger of drops, spill and replay problems and
// failing writes (default [slog.Default]). Warnings are rate limited by
// [WithLogInterval].
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithLogInterval sets the least time between two warnings (default
// [DefaultLogInterval]); each warning carries the counts since the last
// one, so nothing goes unreported. Zero logs every event.
func WithLogInterval(d time.Duration) Option {
	return func(c *config) { c.logInterval = d }
}

// WithMeterProvider sets the provider of the delivery metrics (default
// the global one, [otel.GetMeterProvider]).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}
