package monitor

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/usage"
)

var (
	_ stagetrace.Sink    = (*Monitor)(nil)
	_ stagetrace.Flusher = (*Monitor)(nil)
)

// Monitor is a stagetrace.Sink that aggregates what it is written over
// sliding windows and raises alerts. It is safe for concurrent use.
type Monitor struct {
	cfg   config
	genai *genAIMetrics // nil without WithMeterProvider
	res   int64         // resolution in nanoseconds
	nb    int64         // buckets in the retention

	mu       sync.Mutex
	closed   bool
	gen      uint64 // Write generation, to find the series a Write touched
	spans    map[string]*series
	stages   map[string]*series
	metrics  map[string]*series
	findings map[string]*series
	logs     map[string]*series // by level name: the log events of that level or above
	models   map[string]*usageSeries
	nseries  int
	swept    int64 // epoch of the last sweep of idle series
	runs     map[string]*runState
	runOrder list.List // *runState, most recently updated first
	lastRun  *runState
	rules    []*rule       // windowed rules
	budgets  []*rule       // per-run budgets
	history  []alert.Alert // ring of the last historySize alerts
	histNext int
	health   Health
	sc       scratch
	rng      fastRand
	// memo holds the series the last spans used, so that the spans of a
	// batch, which mostly share names, skip the map lookups.
	memo memo

	queue        chan dispatchItem
	undelivered  int // alerts queued and not yet through dispatch, under mu
	dispatchCtx  context.Context
	cancel       context.CancelFunc
	dispatchDone chan struct{}
	stop         chan struct{}
	loopDone     chan struct{}

	lastSnap    time.Time
	snapMu      sync.Mutex // one snapshot file at a time
	shutdownMu  sync.Mutex
	shutdownErr error
	shut        bool
}

// Health counts what the monitor left out to stay within its bounds, and
// what it holds now.
type Health struct {
	Series        int   `json:"series"`         // series tracked now, models included
	Runs          int   `json:"runs"`           // runs summarized now
	DroppedSeries int64 `json:"dropped_series"` // records of series past WithMaxSeries
	EvictedRuns   int64 `json:"evicted_runs"`   // runs forgotten past WithMaxRuns
	Late          int64 `json:"late"`           // records older than the retention, left out of windows
	DroppedAlerts int64 `json:"dropped_alerts"` // alerts not delivered: the queue was full
	HandlerErrors int64 `json:"handler_errors"` // failed handler calls and forward writes
}

// New returns a Monitor configured by opts. It starts a goroutine for
// alert delivery when there are handlers or forward sinks, and one for
// the evaluation ticker and snapshots when they are on; Shutdown stops
// them.
func New(opts ...Option) (*Monitor, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	genai, err := newGenAIMetrics(cfg.meterProvider)
	if err != nil {
		return nil, err
	}
	m := &Monitor{
		cfg:      cfg,
		genai:    genai,
		res:      int64(cfg.resolution),
		spans:    map[string]*series{},
		stages:   map[string]*series{},
		metrics:  map[string]*series{},
		findings: map[string]*series{},
		logs:     map[string]*series{},
		models:   map[string]*usageSeries{},
		runs:     map[string]*runState{},
		stop:     make(chan struct{}),
	}
	m.nb = (int64(cfg.retention) + m.res - 1) / m.res
	m.rng.s = rand.Uint64()
	for i := range cfg.rules {
		r := newRule(cfg.rules[i])
		if r.Stat.Windowed() {
			m.rules = append(m.rules, r)
		} else {
			r.index = len(m.budgets)
			m.budgets = append(m.budgets, r)
		}
	}
	m.lastSnap = cfg.clock()
	if len(cfg.handlers) > 0 || len(cfg.forward) > 0 {
		m.queue = make(chan dispatchItem, alertQueueSize)
		m.dispatchCtx, m.cancel = context.WithCancel(context.Background())
		m.dispatchDone = make(chan struct{})
		go m.dispatch()
	}
	if (cfg.evalInterval > 0 && len(m.rules) > 0) || cfg.snapEvery > 0 {
		m.loopDone = make(chan struct{})
		go m.loop()
	}
	return m, nil
}

// epoch returns the bucket of t.
func (m *Monitor) epoch(t time.Time) int64 {
	n := t.UnixNano()
	e := n / m.res
	if n < 0 && n%m.res != 0 {
		e--
	}
	return e
}

// windowStart returns the first epoch of a window ending in epoch now: a
// window covers the bucket now filling and the whole buckets before it.
func (m *Monitor) windowStart(now int64, window time.Duration) int64 {
	k := max((int64(window)+m.res-1)/m.res, 1)
	return now - min(k, m.nb) + 1
}

// Write aggregates the spans and the metric events of b, and evaluates the
// alert rules on the series it touched. It returns
// [stagetrace.ErrClosed] after Shutdown. With WithMeterProvider it then
// records the GenAI client metrics of b's spans, outside the monitor's
// lock.
func (m *Monitor) Write(ctx context.Context, b stagetrace.Batch) error {
	if err := m.write(b); err != nil {
		return err
	}
	if m.genai != nil {
		for i := range b.Spans {
			u := usage.Of(&b.Spans[i])
			m.genai.record(ctx, &b.Spans[i], &u)
		}
	}
	return nil
}

func (m *Monitor) write(b stagetrace.Batch) error {
	now := m.cfg.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return stagetrace.ErrClosed
	}
	m.gen++
	w := writeCtx{now: now, nowE: m.epoch(now)}
	w.first = w.nowE - m.nb + 1
	if w.nowE-m.swept >= max(m.nb/8, 1) {
		m.sweep(w.first)
		m.swept = w.nowE
	}
	for i := range b.Spans {
		m.addSpan(&b.Spans[i], &w)
	}
	for i := range b.Events {
		m.addEvent(&b.Events[i], &w)
	}
	if len(m.rules) > 0 {
		w.alerts = m.evaluate(now, w.nowE, true, w.alerts)
	}
	m.deliver(w.alerts)
	return nil
}

// writeCtx is the state of one Write.
type writeCtx struct {
	now    time.Time
	nowE   int64 // epoch of now
	first  int64 // first epoch of the retention
	alerts []alert.Alert
}

// at returns the epoch of a record's time and whether it is within the
// retention. Records from the future (clock skew) count now.
func (w *writeCtx) at(m *Monitor, t time.Time) (int64, bool) {
	if t.IsZero() {
		return w.nowE, true
	}
	e := m.epoch(t)
	if e > w.nowE {
		return w.nowE, true
	}
	if e < w.first {
		m.health.Late++
		return e, false
	}
	return e, true
}

// get returns the series name of kind in tbl, creating it within the
// bound; nil past the bound.
func (m *Monitor) get(tbl map[string]*series, kind SeriesKind, name string) *series {
	if s := tbl[name]; s != nil {
		return s
	}
	if m.nseries >= m.cfg.maxSeries {
		m.health.DroppedSeries++
		return nil
	}
	s := &series{kind: kind, name: strings.Clone(name)}
	for _, r := range m.rules {
		if r.Where != nil && r.name == name && (r.kind == kind || (r.kind == "" && (kind == KindSpan || kind == KindMetric))) {
			s.watchers = append(s.watchers, r)
		}
	}
	if kind.hasStatus() {
		s.unit = "ms"
	}
	tbl[s.name] = s
	m.nseries++
	return s
}

// bucketOf returns the series' bucket of epoch, dropping its buckets past
// the retention when it creates one.
func (s *series) bucketOf(epoch, first int64) *bucket {
	if n := len(s.buckets); n > 0 && s.buckets[n-1].epoch == epoch {
		return &s.buckets[n-1]
	}
	s.prune(first)
	return s.at(epoch)
}

// observe adds one record with value v to s.
func (m *Monitor) observe(s *series, epoch, first int64, isErr bool, v float64) *bucket {
	b := s.bucketOf(epoch, first)
	b.count++
	if isErr {
		b.errors++
	}
	b.observe(v, m.cfg.sampleLimit, &m.rng)
	s.touched = m.gen
	for _, r := range s.watchers {
		if r.Where.Op.HoldsFloat(v, r.Where.Value) {
			r.countAt(epoch, first)
			r.touched = m.gen
		}
	}
	return b
}

func (m *Monitor) addSpan(s *stagetrace.StageSpan, w *writeCtx) {
	epoch, in := w.at(m, s.EndTime)
	u := usage.Of(s)
	if in {
		// The i-th numeric finding uses slot i of the memo.
		i := 0
		for j := range s.Findings {
			v, ok := numeric(s.Findings[j].Value)
			if !ok {
				continue
			}
			if f := m.memo.series(m, m.findings, KindFinding, s.Findings[j].Key, i); f != nil {
				m.observe(f, epoch, w.first, false, v)
			}
			i++
		}
	}
	if in {
		isErr := s.Status == stagetrace.StatusError
		d := max(float64(s.EndTime.Sub(s.StartTime))/float64(time.Millisecond), 0)
		if sp := m.memo.series(m, m.spans, KindSpan, s.Name, memoSpan); sp != nil {
			addTokens(m.observe(sp, epoch, w.first, isErr, d), &u)
		}
		if s.Stage != "" {
			if st := m.memo.series(m, m.stages, KindStage, s.Stage, memoStage); st != nil {
				addTokens(m.observe(st, epoch, w.first, isErr, d), &u)
			}
		}
		if u.Counts() {
			if us := m.memo.usage(m, u.Model); us != nil {
				if n := len(us.buckets); n == 0 || us.buckets[n-1].epoch != epoch {
					us.prune(w.first)
				}
				mu := us.at(epoch)
				if mu.Model == "" {
					mu.Model = u.Model
				}
				mu.add(&u)
			}
		}
	}
	r := m.run(s.RunID)
	r.addSpan(s, &u)
	if u.Counts() {
		w.alerts = m.checkBudgets(r, w.now, w.alerts)
	}
}

// Slots of the memo: the finding at position i of a span's findings uses
// slot i; the span, the stage and the metric of an event the last three.
const (
	memoFindings = 8
	memoSpan     = memoFindings
	memoStage    = memoFindings + 1
	memoMetric   = memoFindings + 2
)

type memo struct {
	s     [memoFindings + 3]*series
	model *usageSeries
	name  string // of model
}

// series returns the series name of kind, from slot i of the memo when it
// holds it.
func (c *memo) series(m *Monitor, tbl map[string]*series, kind SeriesKind, name string, i int) *series {
	if i >= len(c.s) {
		return m.get(tbl, kind, name)
	}
	if s := c.s[i]; s != nil && s.kind == kind && s.name == name {
		return s
	}
	s := m.get(tbl, kind, name)
	c.s[i] = s
	return s
}

// usage returns the usage series of model, creating it within the bound.
func (c *memo) usage(m *Monitor, model string) *usageSeries {
	if c.model != nil && c.name == model {
		return c.model
	}
	us := m.models[model]
	if us == nil {
		if m.nseries >= m.cfg.maxSeries {
			m.health.DroppedSeries++
			return nil
		}
		us = &usageSeries{}
		model = strings.Clone(model)
		m.models[model] = us
		m.nseries++
	}
	c.model, c.name = us, model
	return us
}

func addTokens(b *bucket, u *usage.Usage) {
	if !u.HasTokens {
		return
	}
	b.tokSpans++
	b.tokIn = usage.AddCount(b.tokIn, u.InputTokens)
	b.tokOut = usage.AddCount(b.tokOut, u.OutputTokens)
	b.tokTotal = usage.AddCount(b.tokTotal, u.TotalTokens)
}

// numeric returns the value of a numeric finding as a series observes
// it: a number, or a bool as 0 or 1.
func numeric(v stagetrace.Value) (float64, bool) {
	switch v.Kind() {
	case stagetrace.KindInt64:
		return float64(v.AsInt64()), true
	case stagetrace.KindFloat64:
		return v.AsFloat64(), true
	case stagetrace.KindBool:
		if v.AsBool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func (m *Monitor) addEvent(ev *stagetrace.TraceEvent, w *writeCtx) {
	if ev.Name == stagetrace.LogEventName {
		m.addLog(ev, w)
		return
	}
	if ev.Name != attributes.EventMetric {
		return // alert events of another monitor included: no loops
	}
	var name, unit string
	var value stagetrace.Value
	for i := range ev.Attrs {
		switch ev.Attrs[i].Key {
		case string(attributes.MetricName):
			name = ev.Attrs[i].Value.AsString()
		case string(attributes.MetricValue):
			value = ev.Attrs[i].Value
		case string(attributes.MetricUnit):
			unit = ev.Attrs[i].Value.AsString()
		}
	}
	if name == "" {
		return
	}
	epoch, in := w.at(m, ev.Time)
	if !in {
		return
	}
	s := m.memo.series(m, m.metrics, KindMetric, name, memoMetric)
	if s == nil {
		return
	}
	if unit != "" && unit != s.unit {
		s.unit = strings.Clone(unit)
	}
	v, ok := value.Number()
	if !ok {
		// Not a number: counted as a record and as an invalid value.
		b := s.bucketOf(epoch, w.first)
		b.count++
		b.invalid++
		s.touched = m.gen
		return
	}
	m.observe(s, epoch, w.first, false, v)
}

// addLog counts a log event in the series of its level and of every
// level below it, so that log:warn counts warnings and worse. A log event
// of unspecified level is in none.
func (m *Monitor) addLog(ev *stagetrace.TraceEvent, w *writeCtx) {
	level := ev.Severity.Level()
	if level == stagetrace.LevelUnspecified {
		return
	}
	epoch, in := w.at(m, ev.Time)
	if !in {
		return
	}
	for l := stagetrace.LevelVerbose; l <= level; l++ {
		if s := m.get(m.logs, KindLog, l.String()); s != nil {
			m.observe(s, epoch, w.first, false, float64(ev.Severity.Number))
		}
	}
}

// sweep drops the buckets past the retention of every series and forgets
// the series left empty.
func (m *Monitor) sweep(first int64) {
	m.memo = memo{}
	for _, tbl := range [...]map[string]*series{m.spans, m.stages, m.metrics, m.findings, m.logs} {
		for k, s := range tbl {
			if s.prune(first) {
				delete(tbl, k)
				m.nseries--
			}
		}
	}
	for k, s := range m.models {
		if s.prune(first) {
			delete(m.models, k)
			m.nseries--
		}
	}
	for _, r := range m.rules {
		r.pruneCounts(first)
	}
}

// lookup returns the series a name given to Metrics stands for.
func (m *Monitor) lookup(kind SeriesKind, name string) *series {
	switch kind {
	case KindSpan:
		return m.spans[name]
	case KindStage:
		return m.stages[name]
	case KindMetric:
		return m.metrics[name]
	case KindFinding:
		return m.findings[name]
	case KindLog:
		if l, ok := stagetrace.ParseLevel(name); ok {
			return m.logs[l.String()]
		}
		return nil
	}
	if s := m.spans[name]; s != nil {
		return s
	}
	return m.metrics[name]
}

// Metrics returns the aggregates of a series over the window ending now:
// name is a span name, stage:<stage>, metric:<metric.name> or
// finding:<finding name>; span:<name> names a span unambiguously, and a
// name without a prefix is a span's if a span has it, else a metric's.
// ok is false when the monitor holds no such series (never seen, or idle
// for the whole retention) or the window is not positive; a window longer
// than the retention covers the retention.
func (m *Monitor) Metrics(name string, window time.Duration) (Stats, bool) {
	kind, n, err := parseSeries(name)
	if err != nil || window <= 0 {
		return Stats{}, false
	}
	now := m.cfg.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.lookup(kind, n)
	if s == nil {
		return Stats{}, false
	}
	return s.stats(s.inWindow(m.windowStart(m.epoch(now), window)), window, true, &m.sc), true
}

// TokenUsage returns token usage and cost per model over the window ending
// now. Spans count by their end time.
func (m *Monitor) TokenUsage(window time.Duration) TokenUsageReport {
	now := m.cfg.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokenUsage(m.epoch(now), window)
}

func (m *Monitor) tokenUsage(nowE int64, window time.Duration) TokenUsageReport {
	byModel := map[string]*ModelUsage{}
	if window > 0 {
		first := m.windowStart(nowE, window)
		for model, s := range m.models {
			var mu *ModelUsage
			for i := range s.buckets {
				b := &s.buckets[i]
				if b.epoch < first {
					continue
				}
				if mu == nil {
					mu = &ModelUsage{Model: model}
				}
				mu.merge(&b.u)
			}
			if mu != nil {
				byModel[model] = mu
			}
		}
	}
	return buildReport(byModel, window)
}

// RunSummary returns what the monitor saw of a run, whatever its age, if
// the run is among the last WithMaxRuns updated.
func (m *Monitor) RunSummary(runID string) (RunSummary, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[runID]
	if r == nil {
		return RunSummary{}, false
	}
	return r.summary(), true
}

// Snapshot is every series active in a window and the token usage over
// it, as package export writes them.
type Snapshot struct {
	Time          time.Time        `json:"time"`
	Window        time.Duration    `json:"-"`
	WindowSeconds float64          `json:"window_seconds"`
	Metrics       []Stats          `json:"metrics"` // by kind, then name
	TokenUsage    TokenUsageReport `json:"token_usage"`
}

// Snapshot returns the stats of every series with records in the window
// ending now, and the token usage over it.
func (m *Monitor) Snapshot(window time.Duration) Snapshot {
	now := m.cfg.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshot(now, window)
}

func (m *Monitor) snapshot(now time.Time, window time.Duration) Snapshot {
	nowE := m.epoch(now)
	snap := Snapshot{Time: now, Window: window, WindowSeconds: window.Seconds(), Metrics: []Stats{}}
	if window > 0 {
		first := m.windowStart(nowE, window)
		for _, tbl := range [...]map[string]*series{m.spans, m.stages, m.metrics, m.findings, m.logs} {
			for _, s := range tbl {
				st := s.stats(s.inWindow(first), window, true, &m.sc)
				if st.Count > 0 || st.Invalid > 0 {
					snap.Metrics = append(snap.Metrics, st)
				}
			}
		}
	}
	slices.SortFunc(snap.Metrics, func(a, b Stats) int {
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Name, b.Name))
	})
	snap.TokenUsage = m.tokenUsage(nowE, window)
	return snap
}

// Point is one bucket of a series.
type Point struct {
	Time   time.Time `json:"time"` // start of the bucket
	Count  int64     `json:"count"`
	Errors int64     `json:"errors"`
	Mean   float64   `json:"mean"` // of the bucket's values; 0 when none
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
}

// Timeline returns a series bucket by bucket over the window ending now,
// oldest first, skipping empty buckets; name is as Metrics takes it.
func (m *Monitor) Timeline(name string, window time.Duration) ([]Point, bool) {
	kind, n, err := parseSeries(name)
	if err != nil || window <= 0 {
		return nil, false
	}
	now := m.cfg.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.lookup(kind, n)
	if s == nil {
		return nil, false
	}
	bs := s.inWindow(m.windowStart(m.epoch(now), window))
	pts := make([]Point, 0, len(bs))
	for i := range bs {
		b := &bs[i]
		p := Point{Time: time.Unix(0, b.epoch*m.res), Count: b.count, Errors: b.errors, Min: b.min, Max: b.max}
		if b.values > 0 {
			p.Mean = b.sum / float64(b.values)
		}
		pts = append(pts, p)
	}
	return pts, true
}

// Health returns the monitor's counters.
func (m *Monitor) Health() Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.health
	h.Series = m.nseries
	h.Runs = len(m.runs)
	return h
}

// Alerts returns the last alerts raised, firing and resolved, oldest
// first.
func (m *Monitor) Alerts() []alert.Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]alert.Alert, 0, len(m.history))
	if len(m.history) == historySize {
		out = append(out, m.history[m.histNext:]...)
		out = append(out, m.history[:m.histNext]...)
	} else {
		out = append(out, m.history...)
	}
	for i := range out {
		out[i] = out[i].Clone()
	}
	return out
}

// Firing returns the alerts of the windowed rules firing now.
func (m *Monitor) Firing() []alert.Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []alert.Alert
	for _, r := range m.rules {
		if r.firing {
			out = append(out, r.last.Clone())
		}
	}
	return out
}

// Evaluate evaluates every alert rule now, delivers the alerts it raises
// and returns them. The ticker (WithEvalInterval) calls it; Write
// evaluates the rules on the series it touched.
func (m *Monitor) Evaluate() []alert.Alert {
	now := m.cfg.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	nowE := m.epoch(now)
	m.sweep(nowE - m.nb + 1)
	m.swept = nowE
	alerts := m.evaluate(now, nowE, false, nil)
	m.deliver(alerts)
	for i := range alerts {
		alerts[i] = alerts[i].Clone()
	}
	return alerts
}

// deliver records alerts and queues them for handlers and forward sinks.
// It never blocks: Write must not wait for a webhook.
func (m *Monitor) deliver(alerts []alert.Alert) {
	for _, a := range alerts {
		if len(m.history) < historySize {
			m.history = append(m.history, a)
		} else {
			m.history[m.histNext] = a
			m.histNext = (m.histNext + 1) % historySize
		}
		if m.queue == nil {
			continue
		}
		select {
		case m.queue <- dispatchItem{alert: a.Clone()}:
			m.undelivered++
		default:
			m.health.DroppedAlerts++
			m.cfg.logger.Warn("monitor: alert queue full: alert dropped", "alert", a.Name, "state", string(a.State))
		}
	}
}

// ForceFlush delivers every alert raised before the call to the handlers
// and forward sinks.
func (m *Monitor) ForceFlush(ctx context.Context) error {
	m.mu.Lock()
	if m.closed || m.queue == nil {
		m.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	select {
	case m.queue <- dispatchItem{flushed: done}:
	default:
		m.mu.Unlock()
		// The queue is full: wait for room outside the lock.
		return m.flushSlow(ctx, done)
	}
	m.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Monitor) flushSlow(ctx context.Context, done chan struct{}) error {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil
		}
		select {
		case m.queue <- dispatchItem{flushed: done}:
			m.mu.Unlock()
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Shutdown stops the ticker, writes the last snapshot, delivers the alerts
// still queued and stops delivery. When ctx is done first, the handler
// running is cancelled through its context and the alerts still queued
// are dropped; Shutdown returns once the handler has returned. With no
// alert queued or being handled it returns nil (or the last snapshot's
// error), even when ctx is done already. Forward sinks are not shut down. Calls after the first return the first call's
// result.
func (m *Monitor) Shutdown(ctx context.Context) error {
	m.shutdownMu.Lock()
	defer m.shutdownMu.Unlock()
	if m.shut {
		return m.shutdownErr
	}
	m.shut = true
	close(m.stop)
	if m.loopDone != nil {
		<-m.loopDone
	}
	var errs []error
	if m.cfg.snapEvery > 0 {
		if err := m.writeSnapshot(); err != nil {
			errs = append(errs, err)
		}
	}
	m.mu.Lock()
	m.closed = true
	if m.queue != nil {
		close(m.queue)
	}
	idle := m.undelivered == 0
	m.mu.Unlock()
	switch {
	case m.dispatchDone == nil:
	case idle:
		// No alert waits or is being handled: the dispatcher exits as
		// soon as it sees the queue closed, whatever ctx says. Decided
		// before ctx is looked at, since with ctx done already a select
		// over both would pick either at random.
		<-m.dispatchDone
		m.cancel()
	default:
		select {
		case <-m.dispatchDone:
		case <-ctx.Done():
			m.cancel()
			<-m.dispatchDone
			errs = append(errs, fmt.Errorf("monitor: alerts left undelivered: %w", ctx.Err()))
		}
		m.cancel()
	}
	m.shutdownErr = errors.Join(errs...)
	return m.shutdownErr
}

// loop runs the evaluation ticker and the snapshots.
func (m *Monitor) loop() {
	defer close(m.loopDone)
	var evalC, snapC <-chan time.Time
	if m.cfg.evalInterval > 0 && len(m.rules) > 0 {
		t := time.NewTicker(m.cfg.evalInterval)
		defer t.Stop()
		evalC = t.C
	}
	if m.cfg.snapEvery > 0 {
		t := time.NewTicker(m.cfg.snapEvery)
		defer t.Stop()
		snapC = t.C
	}
	for {
		select {
		case <-m.stop:
			return
		case <-evalC:
			m.Evaluate()
		case <-snapC:
			if err := m.writeSnapshot(); err != nil {
				m.cfg.logger.Error("monitor: snapshot failed", "error", err)
			}
		}
	}
}

// parseSeries splits a series name into kind and name, as alert rules
// name series. A name with no prefix has kind "" (a span name, else a
// metric name).
func parseSeries(name string) (SeriesKind, string, error) {
	kind, rest, err := alert.SplitSeries(name)
	return SeriesKind(kind), rest, err
}

// writeSnapshot gives the snapshot of the period since the last one to
// the WithSnapshots function.
func (m *Monitor) writeSnapshot() error {
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	now := m.cfg.clock()
	m.mu.Lock()
	window := m.cfg.snapEvery
	if since := now.Sub(m.lastSnap); since > 0 && since < window {
		window = since // the last, shorter period at Shutdown
	}
	snap := m.snapshot(now, window)
	m.lastSnap = now
	m.mu.Unlock()
	if err := m.cfg.snapWrite(snap); err != nil {
		return fmt.Errorf("monitor: snapshot: %w", err)
	}
	return nil
}
