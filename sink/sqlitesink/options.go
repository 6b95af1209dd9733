package sqlitesink

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stagetrace/stagetrace/internal/retention"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
)

// Defaults used when no option says otherwise.
const (
	// DefaultBusyTimeout is how long a write waits for another writer of
	// the same file (another process, or another Store) to finish.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultRetentionInterval is how often expired runs are deleted when
	// WithTTL is set.
	DefaultRetentionInterval = time.Minute
	// DefaultRetentionChunk is the number of runs deleted per transaction,
	// so that retention never holds the write lock for long.
	DefaultRetentionChunk = 500
	// DefaultReaders is the number of connections queries use at once.
	DefaultReaders = 4
)

// maxRetentionChunk bounds WithRetentionChunk: the run ids of a chunk are
// bound parameters of one statement, and SQLite takes at most 32766.
const maxRetentionChunk = 10000

// Option configures a Store.
type Option func(*config)

type config struct {
	ttl         time.Duration
	now         func() time.Time
	interval    time.Duration
	chunk       int
	busyTimeout time.Duration
	readers     int
	logger      *slog.Logger
	indexed     []string
}

func newConfig(opts []Option) (config, error) {
	c := config{
		now:         time.Now,
		interval:    DefaultRetentionInterval,
		chunk:       DefaultRetentionChunk,
		busyTimeout: DefaultBusyTimeout,
		readers:     DefaultReaders,
		indexed:     DefaultIndexedAttrs(),
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	errs := retention.Check(c.ttl, c.interval, c.chunk, maxRetentionChunk)
	if c.busyTimeout < 0 {
		errs = append(errs, fmt.Errorf("negative busy timeout %v", c.busyTimeout))
	}
	if c.readers <= 0 {
		errs = append(errs, fmt.Errorf("readers %d is not positive", c.readers))
	}
	if err := sqlfields.CheckIndexed(c.indexed); err != nil {
		errs = append(errs, err)
	}
	if c.now == nil {
		errs = append(errs, errors.New("nil clock"))
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("sqlitesink: %w", err)
	}
	return c, nil
}

// WithTTL keeps runs for d after their last span ended: older runs are
// deleted, whole, when the store opens and then every retention interval
// (see WithRetentionInterval). Zero, the default, keeps runs forever.
func WithTTL(d time.Duration) Option { return func(c *config) { c.ttl = d } }

// WithClock sets the clock retention reads, for tests. Default time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetentionInterval sets how often expired runs are deleted while the
// store is open. Default DefaultRetentionInterval.
func WithRetentionInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithRetentionChunk sets how many runs retention deletes per transaction.
// Default DefaultRetentionChunk.
func WithRetentionChunk(runs int) Option { return func(c *config) { c.chunk = runs } }

// WithBusyTimeout sets how long a statement waits for a lock held by
// another connection to the file before failing with "database is
// locked". Default DefaultBusyTimeout.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithReaders sets how many connections queries may use at once. Default
// DefaultReaders.
func WithReaders(n int) Option { return func(c *config) { c.readers = n } }

// WithLogger sets where background retention reports its errors. Default:
// nowhere.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// DefaultIndexedAttrs returns the attribute keys a store indexes when
// WithIndexedAttrs is not given: the GenAI keys with few distinct values
// that spans are most often picked by. Findings are always indexed.
func DefaultIndexedAttrs() []string { return sqlfields.DefaultIndexedAttrs() }

// WithIndexedAttrs sets the attribute keys whose values the store indexes,
// in place of DefaultIndexedAttrs. Every finding is indexed, and so is
// ClampedTimeAttr. A filter on another attribute key gives the same
// answer, read from each candidate span's attributes instead of an index:
// fast enough with a selective filter on something indexed beside it, or a
// limit in order of start, and a scan of every span otherwise.
//
// The keys a file indexes are kept in it and only grow: Open indexes the
// spans already stored under a key new to the file (which takes time in
// proportion to the file), and every later writer indexes it too. A key
// the option leaves out stays indexed if the file already indexes it.
func WithIndexedAttrs(keys ...string) Option {
	return func(c *config) { c.indexed = append([]string(nil), keys...) }
}
