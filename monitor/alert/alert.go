package alert

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
)

// Level is how urgent an alert is.
type Level string

// Alert levels.
const (
	LevelInfo     Level = "info"
	LevelWarning  Level = "warning"
	LevelCritical Level = "critical"
)

func (l Level) valid() bool { return l == LevelInfo || l == LevelWarning || l == LevelCritical }

// State is whether an alert is firing or resolved.
type State string

// Alert states.
const (
	// StateFiring is the state of an alert whose rule breached.
	StateFiring State = "firing"
	// StateResolved is the state of an alert whose value came back in
	// bounds, or whose window emptied.
	StateResolved State = "resolved"
)

// Below reports whether the operator breaches under the threshold.
func Below(o query.Op) bool { return o == query.OpLt || o == query.OpLe }

// Stat is the statistic an alert rule compares with its threshold.
type Stat string

// Statistics of a series over a window.
const (
	// StatCount is the number of records in the window or, with Where,
	// the number of values meeting it.
	StatCount Stat = "count"
	// StatSuccessRate and StatErrorRate are shares of spans (span and
	// stage series).
	StatSuccessRate Stat = "success_rate"
	StatErrorRate   Stat = "error_rate"
	// StatMean, StatMin, StatMax, StatP50, StatP95 and StatP99 describe
	// the values: durations in milliseconds for span and stage series.
	StatMean Stat = "mean"
	StatMin  Stat = "min"
	StatMax  Stat = "max"
	StatP50  Stat = "p50"
	StatP95  Stat = "p95"
	StatP99  Stat = "p99"
	// StatMeanInputTokens, StatMeanOutputTokens and StatMeanTotalTokens
	// are tokens per span that reported tokens (span and stage series).
	// The file also accepts mean_prompt_tokens and
	// mean_completion_tokens.
	StatMeanInputTokens  Stat = "mean_input_tokens"
	StatMeanOutputTokens Stat = "mean_output_tokens"
	StatMeanTotalTokens  Stat = "mean_total_tokens"
)

// Per-run budgets: compared, for each run, with what the run has used so
// far; such a rule names no series and has no window.
const (
	StatRunInputTokens  Stat = "run_input_tokens"
	StatRunOutputTokens Stat = "run_output_tokens"
	StatRunTotalTokens  Stat = "run_total_tokens"
	// StatRunCost is the run's cost in the currency of its cost findings.
	StatRunCost Stat = "run_cost"
)

var statAliases = map[string]Stat{
	"mean_prompt_tokens":     StatMeanInputTokens,
	"mean_completion_tokens": StatMeanOutputTokens,
	"run_prompt_tokens":      StatRunInputTokens,
	"run_completion_tokens":  StatRunOutputTokens,
}

var allStats = []Stat{
	StatCount, StatSuccessRate, StatErrorRate, StatMean, StatMin, StatMax, StatP50, StatP95, StatP99,
	StatMeanInputTokens, StatMeanOutputTokens, StatMeanTotalTokens,
	StatRunInputTokens, StatRunOutputTokens, StatRunTotalTokens, StatRunCost,
}

func (s Stat) known() bool { return slices.Contains(allStats, s) }

// Windowed reports whether the stat is of a series over a window rather
// than of a run.
func (s Stat) Windowed() bool { return !strings.HasPrefix(string(s), "run_") }

// Quantile returns the quantile a percentile stat stands for; ok is false
// for the other stats.
func (s Stat) Quantile() (q float64, ok bool) {
	switch s {
	case StatP50:
		return 0.50, true
	case StatP95:
		return 0.95, true
	case StatP99:
		return 0.99, true
	}
	return 0, false
}

func (s Stat) needsStatus() bool { return s == StatSuccessRate || s == StatErrorRate }

// Tokens reports whether the stat is a mean of the tokens of the spans
// that reported them.
func (s Stat) Tokens() bool {
	return s == StatMeanInputTokens || s == StatMeanOutputTokens || s == StatMeanTotalTokens
}

// Condition selects values: those for which value Op Value holds.
type Condition struct {
	Op    query.Op
	Value float64
}

// Rule is a threshold on a statistic of a series over a window, or on
// what each run has used.
//
// A rule fires once when its statistic breaches the threshold (Stat Op
// Threshold holds), and resolves once when the statistic is back in
// bounds, or its window holds fewer than MinCount records. With Clear set,
// it resolves only when the statistic is back past Clear, so that a value
// hovering at the threshold does not fire and resolve in turn.
type Rule struct {
	// Name identifies the rule; it must be unique.
	Name string
	// Level is how urgent its alerts are; LevelWarning when empty.
	Level Level
	// Metric names the series as monitor.Monitor.Metrics takes it: a span name,
	// "stage:<stage>", "metric:<metric.name>", "finding:<name>" or
	// "log:<level>" (the log events of that level or above). Run budgets
	// name none.
	Metric string
	// Stat, Op and Threshold are the condition that breaches.
	Stat      Stat
	Op        query.Op
	Threshold float64
	// Clear, when set, is the value the statistic must get back past to
	// resolve; it lies on the safe side of Threshold (or equals it).
	Clear *float64
	// Where makes Stat count the values meeting it, such as
	// response_safe_score < 0.5; only with StatCount.
	Where *Condition
	// Window is how far back the statistic looks; monitor.DefaultWindow
	// when zero. Run budgets have none.
	Window time.Duration
	// MinCount is how many records (values, or token-reporting spans) the
	// window must hold for a rate, mean or quantile to be judged; 1 when
	// zero.
	MinCount int64
	// Message, when set, replaces the start of the alert's message.
	Message string
}

// seriesKinds maps each prefix to its kind.
var seriesKinds = map[string]string{
	attributes.SeriesSpanPrefix:    kindSpan,
	attributes.SeriesStagePrefix:   kindStage,
	attributes.SeriesMetricPrefix:  kindMetric,
	attributes.SeriesFindingPrefix: kindFinding,
	attributes.SeriesLogPrefix:     kindLog,
}

// Series kinds, as SplitSeries returns them.
const (
	kindSpan    = "span"
	kindStage   = "stage"
	kindMetric  = "metric"
	kindFinding = "finding"
	kindLog     = "log"
)

// prefixLike matches a name that looks like it starts with a series kind:
// a lowercase word and a colon.
var prefixLike = regexp.MustCompile(`^[a-z_]+:`)

// SplitSeries splits a series name, as rules and monitor.Monitor.Metrics
// take it, into its kind (span, stage, metric or finding) and the name
// after the kind's prefix. A name with no prefix has kind "" (a span
// name, else a metric name).
func SplitSeries(name string) (kind, rest string, err error) {
	for p, k := range seriesKinds {
		if strings.HasPrefix(name, p) {
			rest := name[len(p):]
			if rest == "" {
				return "", "", fmt.Errorf("%q names no %s", name, k)
			}
			return k, rest, nil
		}
	}
	if p := prefixLike.FindString(name); p != "" {
		return "", "", fmt.Errorf("unknown series kind %q in %q (known: span:, stage:, metric:, finding:, log:; write span:%s for a span name with a colon)", p, name, name)
	}
	if name == "" {
		return "", "", errors.New("empty series name")
	}
	return "", name, nil
}

// Validate reports what is wrong with the rule, naming it.
func (r *Rule) Validate() error {
	if err := r.validate(); err != nil {
		return &RuleError{Rule: r.Name, Err: err}
	}
	return nil
}

func (r *Rule) validate() error {
	if r.Name == "" {
		return errors.New("name: missing")
	}
	if r.Level != "" && !r.Level.valid() {
		return fmt.Errorf("level: unknown level %q (known: info, warning, critical)", r.Level)
	}
	if !r.Stat.known() {
		return fmt.Errorf("unknown statistic %q (known: %s)", r.Stat, statList())
	}
	if !r.Op.IsOrdering() {
		return fmt.Errorf("bad operator %q (known: <, <=, >, >=)", r.Op)
	}
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
		return fmt.Errorf("threshold %v is not a number", r.Threshold)
	}
	if r.MinCount < 0 {
		return fmt.Errorf("min_count %d is negative", r.MinCount)
	}
	if r.Clear != nil {
		c := *r.Clear
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return fmt.Errorf("clear %v is not a number", c)
		}
		if (Below(r.Op) && c < r.Threshold) || (!Below(r.Op) && c > r.Threshold) {
			return fmt.Errorf("clear %v is on the breaching side of the threshold %s %v", c, r.Op, r.Threshold)
		}
	}
	if !r.Stat.Windowed() {
		if r.Metric != "" {
			return fmt.Errorf("metric: %s is a per-run budget: it names no series", r.Stat)
		}
		if r.Window != 0 {
			return fmt.Errorf("window: %s is a per-run budget: it has no window", r.Stat)
		}
		if r.Where != nil {
			return errors.New("where: only with count")
		}
		return nil
	}
	if r.Metric == "" {
		return errors.New("metric: missing")
	}
	kind, rest, err := SplitSeries(r.Metric)
	if err != nil {
		return fmt.Errorf("metric: %w", err)
	}
	if kind == kindLog {
		if _, ok := stagetrace.ParseLevel(rest); !ok {
			return fmt.Errorf("metric: %q names no log level (known: verbose, debug, info, warn, error, critical)", r.Metric)
		}
	}
	if r.Window < 0 {
		return fmt.Errorf("window %v is negative", r.Window)
	}
	if (r.Stat.needsStatus() || r.Stat.Tokens()) && (kind == kindMetric || kind == kindFinding || kind == kindLog) {
		return fmt.Errorf("%s applies to span and stage series, not to %s", r.Stat, r.Metric)
	}
	if r.Where != nil {
		if r.Stat != StatCount {
			return fmt.Errorf("where: only with count, not with %s", r.Stat)
		}
		if !r.Where.Op.IsOrdering() {
			return fmt.Errorf("where: bad operator %q (known: <, <=, >, >=)", r.Where.Op)
		}
		if math.IsNaN(r.Where.Value) || math.IsInf(r.Where.Value, 0) {
			return fmt.Errorf("where: %v is not a number", r.Where.Value)
		}
	}
	return nil
}

func statList() string {
	s := make([]string, len(allStats))
	for i, st := range allStats {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// RuleError is an invalid alert rule: in a file (File and Line set) or
// given to monitor.WithAlerts. Its text reads
//
//	rules.yaml:14: alert 2 ("slow-chat"): when: unknown statistic "p959" ...
type RuleError struct {
	File  string // file name, "" for rules built in Go
	Line  int    // 1-based line in File, 0 when unknown
	Index int    // 1-based position of the rule in the file, 0 when unknown
	Rule  string // the rule's name, "" when it has none
	Err   error  // what is wrong
}

// Error returns the message described on the type.
func (e *RuleError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Index > 0 || e.Rule != "" {
		b.WriteString("alert")
		if e.Index > 0 {
			b.WriteString(" " + strconv.Itoa(e.Index))
		}
		if e.Rule != "" {
			b.WriteString(" " + strconv.Quote(e.Rule))
		}
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *RuleError) Unwrap() error { return e.Err }

// Alert is a rule that fired or resolved.
type Alert struct {
	Name    string         `json:"name"`
	Level   Level          `json:"level"`
	State   State          `json:"state"`
	Message string         `json:"message"`
	Time    time.Time      `json:"time"`
	RunID   string         `json:"run_id,omitempty"` // the run of a per-run budget
	Data    map[string]any `json:"data"`             // metric, stat, op, threshold, value, window, count, ...
}

// Clone returns a with a Data of its own, so that callers and handlers
// cannot change what others see.
func (a Alert) Clone() Alert {
	a.Data = maps.Clone(a.Data)
	return a
}

// Event returns the alert as a TraceEvent named alert, as the monitor's
// WithForward writes it.
func (a Alert) Event() stagetrace.TraceEvent {
	attrs := stagetrace.Attrs{
		{Key: string(attributes.AlertName), Value: stagetrace.StringValue(a.Name)},
		{Key: string(attributes.AlertLevel), Value: stagetrace.StringValue(string(a.Level))},
		{Key: string(attributes.AlertState), Value: stagetrace.StringValue(string(a.State))},
		{Key: string(attributes.AlertMessage), Value: stagetrace.StringValue(a.Message)},
	}
	for _, k := range slices.Sorted(maps.Keys(a.Data)) {
		var v stagetrace.Value
		switch x := a.Data[k].(type) {
		case string:
			v = stagetrace.StringValue(x)
		case float64:
			v = stagetrace.Float64Value(x)
		case int64:
			v = stagetrace.Int64Value(x)
		case int:
			v = stagetrace.IntValue(x)
		case bool:
			v = stagetrace.BoolValue(x)
		default:
			v = stagetrace.StringValue(fmt.Sprint(x))
		}
		attrs = append(attrs, stagetrace.Attr{Key: attributes.AlertDataPrefix + k, Value: v})
	}
	ev := stagetrace.TraceEvent{Name: attributes.EventAlert, RunID: a.RunID, Time: a.Time, Attrs: attrs}
	if k, ok := a.Data[dataMetric].(string); ok && strings.HasPrefix(k, attributes.SeriesStagePrefix) {
		ev.Stage = strings.TrimPrefix(k, attributes.SeriesStagePrefix)
	}
	return ev
}

// FromEvent reads an alert back from an event named alert.
func FromEvent(ev stagetrace.TraceEvent) (Alert, bool) {
	if ev.Name != attributes.EventAlert {
		return Alert{}, false
	}
	a := Alert{Time: ev.Time, RunID: ev.RunID, Data: map[string]any{}}
	for _, kv := range ev.Attrs {
		switch kv.Key {
		case string(attributes.AlertName):
			a.Name = kv.Value.AsString()
		case string(attributes.AlertLevel):
			a.Level = Level(kv.Value.AsString())
		case string(attributes.AlertState):
			a.State = State(kv.Value.AsString())
		case string(attributes.AlertMessage):
			a.Message = kv.Value.AsString()
		default:
			if k, ok := strings.CutPrefix(kv.Key, attributes.AlertDataPrefix); ok {
				a.Data[k] = kv.Value.AsInterface()
			}
		}
	}
	return a, a.Name != ""
}

// Keys of Alert.Data.
const (
	dataMetric    = "metric"
	dataStat      = "stat"
	dataOp        = "op"
	dataThreshold = "threshold"
	dataValue     = "value"
	dataWindow    = "window"
	dataCount     = "count"
	dataRunID     = "run_id"
	dataWhere     = "where"
	dataClear     = "clear"
)
