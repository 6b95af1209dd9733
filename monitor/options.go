package monitor

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor/alert"
)

// Defaults used by New when no option says otherwise.
const (
	// DefaultRetention is how long per-bucket data is kept when neither
	// WithRetention nor an alert rule's window asks for longer.
	DefaultRetention = 5 * time.Minute
	// DefaultSampleLimit is how many values of one series one bucket keeps
	// for quantiles.
	DefaultSampleLimit = 64
	// DefaultMaxSeries bounds the series (span names, stages, metrics,
	// findings and models together) the monitor tracks.
	DefaultMaxSeries = 512
	// DefaultMaxRuns bounds the runs whose summaries the monitor keeps.
	DefaultMaxRuns = 1024
	// DefaultEvalInterval is how often alert rules are evaluated besides
	// on each Write, when the monitor has rules.
	DefaultEvalInterval = 10 * time.Second
	// DefaultWindow is the window of an alert rule that gives none.
	DefaultWindow = 5 * time.Minute
)

// maxBuckets bounds the buckets one series keeps: resolution defaults to
// retention/maxBuckets, and a finer resolution asked for is refused, so
// that memory stays bounded whatever the retention.
const maxBuckets = 3600

// alertQueueSize bounds the alerts waiting for handlers and forward sinks;
// beyond it alerts are dropped (and counted) rather than blocking Write.
const alertQueueSize = 256

// historySize is how many alerts Alerts returns.
const historySize = 256

// Option configures a Monitor.
type Option func(*config)

type config struct {
	retention    time.Duration
	resolution   time.Duration
	sampleLimit  int
	maxSeries    int
	maxRuns      int
	clock        func() time.Time
	rules        []alert.Rule
	handlers     []alert.Handler
	forward      []stagetrace.Sink
	evalInterval time.Duration
	evalSet      bool
	snapEvery    time.Duration
	snapWrite    func(Snapshot) error
	logger       *slog.Logger
	// meterProvider, when set, receives the GenAI client metrics.
	meterProvider metric.MeterProvider
}

// WithRetention keeps per-bucket data for d, the longest window Metrics
// and TokenUsage can be asked for. An alert rule with a longer window
// lengthens it. Default DefaultRetention.
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithResolution sets the width of a bucket, the granularity of windows:
// a window covers the bucket now filling and the whole buckets before it.
// Default: retention/300, at least a second.
func WithResolution(d time.Duration) Option { return func(c *config) { c.resolution = d } }

// WithSampleLimit sets how many values of a series one bucket keeps for
// quantiles. A window whose buckets saw no more values than that has
// exact quantiles; beyond it each bucket keeps a uniform sample and
// quantiles are estimated from the samples weighted by the buckets'
// counts. Default DefaultSampleLimit.
func WithSampleLimit(n int) Option { return func(c *config) { c.sampleLimit = n } }

// WithMaxSeries bounds how many series the monitor tracks at once. Records
// of a new series past the bound are counted in Health().DroppedSeries
// rather than tracked; series idle for the whole retention are forgotten.
// Default DefaultMaxSeries.
func WithMaxSeries(n int) Option { return func(c *config) { c.maxSeries = n } }

// WithMaxRuns bounds how many runs RunSummary remembers; the run updated
// least recently is forgotten first. Default DefaultMaxRuns.
func WithMaxRuns(n int) Option { return func(c *config) { c.maxRuns = n } }

// WithClock sets the clock windows are measured against. Default
// time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithAlerts adds alert rules. New rejects a rule that is not valid,
// naming it.
func WithAlerts(rules ...alert.Rule) Option {
	return func(c *config) { c.rules = append(c.rules, rules...) }
}

// WithAlertHandlers adds handlers that receive every alert, firing and
// resolved, in order, on a goroutine of the monitor's own.
func WithAlertHandlers(h ...alert.Handler) Option {
	return func(c *config) { c.handlers = append(c.handlers, h...) }
}

// WithForward makes the monitor write each alert, as a TraceEvent named
// alert, in a Batch of its own to sinks. The monitor does not own them:
// its Shutdown does not shut them down.
func WithForward(sinks ...stagetrace.Sink) Option {
	return func(c *config) { c.forward = append(c.forward, sinks...) }
}

// WithEvalInterval sets how often alert rules are evaluated besides on
// each Write, so that alerts on windows that empty out resolve. Zero turns
// the ticker off. Default DefaultEvalInterval when there are rules.
func WithEvalInterval(d time.Duration) Option {
	return func(c *config) { c.evalInterval, c.evalSet = d, true }
}

// WithSnapshots gives write the Snapshot of the last period (window =
// every) every period, and that of the period since the last one at
// Shutdown, on a goroutine of the monitor's own. export.ToDir writes each
// to a file.
func WithSnapshots(every time.Duration, write func(Snapshot) error) Option {
	return func(c *config) { c.snapEvery, c.snapWrite = every, write }
}

// WithLogger sets where the monitor reports what it cannot return: failed
// handlers, forward sinks and snapshots, dropped alerts. Default: nowhere.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

func newConfig(opts []Option) (config, error) {
	c := config{
		sampleLimit: DefaultSampleLimit,
		maxSeries:   DefaultMaxSeries,
		maxRuns:     DefaultMaxRuns,
		clock:       time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.retention < 0 {
		bad("retention %v is negative", c.retention)
	}
	if c.resolution < 0 {
		bad("resolution %v is negative", c.resolution)
	}
	if c.sampleLimit < 1 {
		bad("sample limit %d is not positive", c.sampleLimit)
	}
	if c.maxSeries < 1 {
		bad("max series %d is not positive", c.maxSeries)
	}
	if c.maxRuns < 1 {
		bad("max runs %d is not positive", c.maxRuns)
	}
	if c.clock == nil {
		bad("nil clock")
	}
	if c.evalInterval < 0 {
		bad("eval interval %v is negative", c.evalInterval)
	}
	for i, h := range c.handlers {
		if h == nil {
			bad("alert handler %d is nil", i)
		}
	}
	for i, s := range c.forward {
		if s == nil {
			bad("forward sink %d is nil", i)
		}
	}
	if c.snapWrite != nil || c.snapEvery != 0 {
		if c.snapWrite == nil {
			bad("snapshots: nil write function")
		}
		if c.snapEvery <= 0 {
			bad("snapshots: period %v is not positive", c.snapEvery)
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.retention == 0 {
		c.retention = DefaultRetention
	}
	for i := range c.rules {
		if c.rules[i].Window == 0 && c.rules[i].Stat.Windowed() {
			c.rules[i].Window = DefaultWindow
		}
		if err := c.rules[i].Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		c.retention = max(c.retention, c.rules[i].Window)
	}
	if c.snapEvery > 0 {
		c.retention = max(c.retention, c.snapEvery)
	}
	if c.resolution == 0 {
		c.resolution = max(time.Second, c.retention/300)
	}
	if c.resolution > 0 && c.retention/c.resolution > maxBuckets {
		bad("resolution %v keeps more than %d buckets over the retention of %v", c.resolution, maxBuckets, c.retention)
	}
	if len(c.rules) > 0 && !c.evalSet {
		c.evalInterval = DefaultEvalInterval
	}
	if err := uniqueNames(c.rules); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("monitor: %w", errors.Join(errs...))
	}
	return c, nil
}

func uniqueNames(rules []alert.Rule) error {
	seen := make(map[string]bool, len(rules))
	for _, r := range rules {
		if seen[r.Name] {
			return fmt.Errorf("alert %q: name given to more than one rule", r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}
