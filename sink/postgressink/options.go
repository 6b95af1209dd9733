package postgressink

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
	// DefaultRetentionInterval is how often expired runs are deleted when
	// WithTTL is set.
	DefaultRetentionInterval = time.Minute
	// DefaultRetentionChunk is the number of runs deleted per
	// transaction, so that retention never holds its locks for long.
	DefaultRetentionChunk = 500
	// DefaultMaxConns is the number of connections a store opens at most.
	DefaultMaxConns = 8
)

// maxRetentionChunk bounds WithRetentionChunk.
const maxRetentionChunk = 10000

// Option configures a Store.
type Option func(*config)

type config struct {
	ttl      time.Duration
	now      func() time.Time
	interval time.Duration
	chunk    int
	maxConns int
	logger   *slog.Logger
	indexed  []string
}

func newConfig(opts []Option) (config, error) {
	c := config{
		now:      time.Now,
		interval: DefaultRetentionInterval,
		chunk:    DefaultRetentionChunk,
		maxConns: DefaultMaxConns,
		indexed:  DefaultIndexedAttrs(),
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	errs := retention.Check(c.ttl, c.interval, c.chunk, maxRetentionChunk)
	if c.maxConns < 2 || c.maxConns > 1000 {
		errs = append(errs, fmt.Errorf("max connections %d is not between 2 and 1000", c.maxConns))
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
		return c, fmt.Errorf("postgressink: %w", err)
	}
	return c, nil
}

// WithTTL keeps runs for d after their last span ended: older runs are
// deleted, whole, when the store opens and then every retention interval.
// Zero, the default, keeps runs forever.
func WithTTL(d time.Duration) Option { return func(c *config) { c.ttl = d } }

// WithClock sets the clock retention and metric queries read, for tests.
// Default time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetentionInterval sets how often expired runs are deleted while the
// store is open. Default DefaultRetentionInterval.
func WithRetentionInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithRetentionChunk sets how many runs retention deletes per transaction.
// Default DefaultRetentionChunk.
func WithRetentionChunk(runs int) Option { return func(c *config) { c.chunk = runs } }

// WithMaxConns sets how many connections to the server the store opens at
// most, writes and queries together. Default DefaultMaxConns.
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = n } }

// WithLogger sets where background retention reports its errors. Default:
// nowhere. The URL's password is never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// DefaultIndexedAttrs returns the attribute keys a store indexes when
// WithIndexedAttrs is not given: the GenAI keys with few distinct values
// that spans are most often picked by, the same as the SQLite store's
// (sqlitesink.DefaultIndexedAttrs). Findings are always indexed.
func DefaultIndexedAttrs() []string { return sqlfields.DefaultIndexedAttrs() }

// WithIndexedAttrs sets the attribute keys whose values the store indexes,
// in place of DefaultIndexedAttrs, as the SQLite store's option of the
// same name does. Every finding is indexed. A filter on another attribute
// key gives the same answer, checked on each candidate span's record
// instead of an index: fast enough with a selective filter on something
// indexed beside it, and a scan of every span otherwise; ordering by such
// a key sorts the candidates in memory.
//
// The keys a database indexes are kept in it and only grow: Open indexes
// the spans already stored under a key new to the database (which takes
// time in proportion to the spans stored), and every writer, of any
// instance, indexes it from then on. A key the option leaves out stays
// indexed if the database already indexes it.
func WithIndexedAttrs(keys ...string) Option {
	return func(c *config) { c.indexed = append([]string(nil), keys...) }
}
