package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Rule says which spans it applies to and what it derives from them.
// A rule with an empty Match applies to every span.
type Rule struct {
	// Name identifies the rule in errors; optional, unique in a Set.
	Name string
	// Match holds the conditions a span must meet, all of them.
	Match Match
	// Stage, StageFrom and StageFunc give the span a stage; set at most
	// one. Stage is a literal name; StageFrom is an attribute whose string
	// value names the stage; StageFunc returns the stage, ok false for
	// none. The first matching rule that yields a stage wins.
	Stage     string
	StageFrom string
	StageFunc func(Span) (string, bool)
	// Attributes set attributes the span lacks.
	Attributes []AttributeAction
	// Findings record findings the span lacks (End phase only).
	Findings []FindingAction
}

// Match is the conditions of a rule. Zero fields set no condition.
type Match struct {
	// SpanName matches the span name.
	SpanName Pattern
	// Scope matches the instrumentation scope name.
	Scope Pattern
	// SpanKinds lists the kinds the span may have.
	SpanKinds []stagetrace.SpanKind
	// Attributes are conditions on the span's attributes.
	Attributes []AttributeCondition
	// Func is a condition the rules file cannot say. It is called last,
	// in both phases, and must be safe for concurrent use.
	Func func(Span) bool
}

// CondOp is the test an AttributeCondition makes.
type CondOp uint8

// Attribute condition tests.
const (
	// OpExists holds when the span has the attribute.
	OpExists CondOp = iota + 1
	// OpAbsent holds when the span lacks the attribute.
	OpAbsent
	// OpEquals holds when the attribute equals Value: strings and bools
	// by value, numbers numerically (an int64 3 equals a float64 3.0),
	// other kinds by Value.Equal.
	OpEquals
	// OpMatches holds when the attribute is a string matching the regular
	// expression Pattern, or a string[] with an element that does.
	OpMatches
	// OpGlob is OpMatches with a glob.
	OpGlob
)

var opNames = [...]string{OpExists: "exists", OpAbsent: "absent", OpEquals: "equals", OpMatches: "matches", OpGlob: "glob"}

// String returns the name the rules file uses for the test.
func (o CondOp) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "CondOp(" + strconv.Itoa(int(o)) + ")"
}

// AttributeCondition is a test on one attribute.
type AttributeCondition struct {
	Key     string
	Op      CondOp
	Value   stagetrace.Value // OpEquals
	Pattern string           // OpMatches (regex), OpGlob (glob)
}

// AttrExists is the condition that the span has key.
func AttrExists(key string) AttributeCondition { return AttributeCondition{Key: key, Op: OpExists} }

// AttrAbsent is the condition that the span lacks key.
func AttrAbsent(key string) AttributeCondition { return AttributeCondition{Key: key, Op: OpAbsent} }

// AttrEquals is the condition that key equals v.
func AttrEquals(key string, v stagetrace.Value) AttributeCondition {
	return AttributeCondition{Key: key, Op: OpEquals, Value: v}
}

// AttrMatches is the condition that key matches the regular expression re.
func AttrMatches(key, re string) AttributeCondition {
	return AttributeCondition{Key: key, Op: OpMatches, Pattern: re}
}

// AttrGlob is the condition that key matches the glob g.
func AttrGlob(key, g string) AttributeCondition {
	return AttributeCondition{Key: key, Op: OpGlob, Pattern: g}
}

// AttributeAction sets the attribute Attribute, when the span lacks it,
// to the value of From, to Value, or to what Func returns; set exactly one.
// Attributes that place a span (run.id, run.stage) or hold findings
// (finding.*) cannot be set this way: use Stage and Findings.
type AttributeAction struct {
	Attribute string
	From      string
	Value     stagetrace.Value
	Func      func(Span) (stagetrace.Value, bool)
}

// FindingAction records the finding Name, when the span lacks it, from the
// attribute From, as Value, or as what Func returns; set exactly one.
type FindingAction struct {
	Name  string
	From  string
	Value stagetrace.Value
	Func  func(Span) (stagetrace.Value, bool)
}

// Phase is when rules are evaluated.
type Phase uint8

const (
	// PhaseStart is as the span starts: its name, scope, kind and start
	// attributes are known. Only rules with a stage or attribute actions
	// run, and they yield a stage and attributes, never findings.
	PhaseStart Phase = iota + 1
	// PhaseEnd is once the span has ended and holds every attribute,
	// those set during the span (token counts) included. Every rule runs
	// and yields a stage, attributes and findings.
	PhaseEnd
)

// Result is what the rules derived for one span. It holds only what the
// span lacks: no attribute or finding it already carries.
type Result struct {
	// Stage is the stage of the first matching rule that yields one, ""
	// for none. The caller decides whether it beats a stage the span
	// already has (see the package documentation).
	Stage string
	// Attributes to add, keyed by attribute key, in rule order.
	Attributes stagetrace.Attrs
	// Findings to add, keyed by finding name, in rule order.
	Findings stagetrace.Attrs
}

// Set is a compiled list of rules, presets and prices. It is immutable and
// safe for concurrent use.
type Set struct {
	rules []compiledRule
	// start holds the indexes of the rules PhaseStart runs; attrsFrom[i]
	// reports whether start[i:] holds a rule with attribute actions, so
	// that evaluation stops once the stage is known and nothing else can
	// come.
	start     []int
	attrsFrom []bool
	// startLookups and endLookups count the attribute lookups each phase
	// may make, to decide whether a presence mask pays for itself.
	startLookups, endLookups int
	// startScope reports whether PhaseStart may read the span's scope.
	startScope bool
	// startStageOnly reports whether StartStage can stand for PhaseStart.
	startStageOnly bool
	presets        []string
	prices         *priceTable
}

// Config is everything a Set is compiled from; a rules file is parsed
// into one.
type Config struct {
	// Rules come first, in order.
	Rules []Rule
	// Presets are appended after Rules in the order genai, openinference,
	// openllmetry, whatever order they are listed in, so that the
	// documented precedence between conventions holds.
	Presets []string
	// Prices, when set, makes Set.Apply compute costs.
	Prices *Prices
}

// New compiles rules into a Set. Use Compile for presets and prices.
func New(rules ...Rule) (*Set, error) { return Compile(Config{Rules: rules}) }

// Compile compiles c into a Set. Errors are *Error values naming the rule
// and the field at fault.
func Compile(c Config) (*Set, error) {
	s := &Set{}
	all := c.Rules
	if len(c.Presets) > 0 {
		names, err := canonicalPresets(c.Presets)
		if err != nil {
			return nil, err
		}
		s.presets = names
		all = append(all[:len(all):len(all)], presetRules(names)...)
	}
	seen := make(map[string]int, len(all))
	s.rules = make([]compiledRule, 0, len(all))
	for i, r := range all {
		if r.Name != "" {
			if j, dup := seen[r.Name]; dup {
				return nil, ruleErr(i, r.Name, "name", fmt.Errorf("duplicate rule name %q (also rule %d)", r.Name, j+1))
			}
			seen[r.Name] = i
		}
		cr, err := compileRule(r)
		if err != nil {
			err.Rule, err.RuleName = i+1, r.Name
			return nil, err
		}
		s.rules = append(s.rules, cr)
	}
	for i := range s.rules {
		n := s.rules[i].lookups()
		if s.rules[i].atStart() {
			s.start = append(s.start, i)
			s.startLookups += n
			s.startScope = s.startScope || s.rules[i].mayReadScope()
		}
		s.endLookups += n + 2*len(s.rules[i].findings)
	}
	s.attrsFrom = make([]bool, len(s.start)+1)
	for i := len(s.start) - 1; i >= 0; i-- {
		s.attrsFrom[i] = s.attrsFrom[i+1] || len(s.rules[s.start[i]].attrs) > 0
	}
	// No function is called at start unless startScope is set.
	s.startStageOnly = len(s.start) > 0 && !s.startScope && !s.attrsFrom[0]
	if c.Prices != nil {
		pt, err := compilePrices(*c.Prices)
		if err != nil {
			return nil, err
		}
		s.prices = pt
	}
	return s, nil
}

// HasPrices reports whether the Set holds a price table. Only Apply, at
// export, computes costs: a component that runs the start phase alone
// (the span processors) can warn that its prices have no effect.
func (s *Set) HasPrices() bool { return s != nil && s.prices != nil }

// Len returns the number of rules, presets' rules included.
func (s *Set) Len() int { return len(s.rules) }

// NeedsStart reports whether PhaseStart can yield anything: whether the Set
// has rules with a stage or attribute actions. A nil Set needs nothing.
func (s *Set) NeedsStart() bool { return s != nil && len(s.start) > 0 }

// StartReadsScope reports whether PhaseStart may read the span's
// instrumentation scope: a start rule matches on Scope, or calls a
// function, which may read anything. A caller that cannot tell the scope
// of a starting span (an SDK sampler) evaluates the start phase only when
// it reports false. A nil Set reads nothing.
func (s *Set) StartReadsScope() bool { return s != nil && s.startScope }

// Presets returns the presets the Set includes, in the order applied.
func (s *Set) Presets() []string { return append([]string(nil), s.presets...) }

// Start evaluates the rules as span starts (PhaseStart).
func (s *Set) Start(span Span) Result {
	var r Result
	s.Eval(PhaseStart, span, &r)
	return r
}

// End evaluates the rules on an ended span (PhaseEnd).
func (s *Set) End(span Span) Result {
	var r Result
	s.Eval(PhaseEnd, span, &r)
	return r
}

// Eval evaluates the rules of phase p on span into r, reusing the slices r
// holds: with their capacity sufficient, it allocates nothing.
func (s *Set) Eval(p Phase, span Span, r *Result) {
	r.Stage = ""
	r.Attributes = r.Attributes[:0]
	r.Findings = r.Findings[:0]
	if s == nil {
		return
	}
	in := spanInfo{name: span.Name(), scope: span.Scope(), kind: span.Kind()}
	if p == PhaseStart {
		if s.startLookups >= maskThreshold {
			in.buildMask(span)
		}
		for i, ri := range s.start {
			if r.Stage != "" && !s.attrsFrom[i] {
				return
			}
			cr := &s.rules[ri]
			if r.Stage != "" && len(cr.attrs) == 0 {
				continue
			}
			if cr.matches(span, &in) {
				cr.apply(span, &in, r, false)
			}
		}
		return
	}
	if s.endLookups >= maskThreshold {
		in.buildMask(span)
	}
	for i := range s.rules {
		cr := &s.rules[i]
		if cr.matches(span, &in) {
			cr.apply(span, &in, r, true)
		}
	}
}

// mayReadScope reports whether evaluating r may read the span's scope.
func (cr *compiledRule) mayReadScope() bool {
	if cr.scopeM != nil || cr.fn != nil || cr.stageFunc != nil {
		return true
	}
	for _, a := range cr.attrs {
		if a.fn != nil {
			return true
		}
	}
	return false
}

type compiledRule struct {
	nameM, scopeM *matcher
	kinds         uint8 // bit k set: SpanKind k allowed; 0: any
	conds         []cond
	fn            func(Span) bool

	stage     string
	stageFrom keyRef
	stageFunc func(Span) (string, bool)

	attrs    []valueAction
	findings []valueAction
}

// cond is a compiled AttributeCondition.
type cond struct {
	key keyRef
	op  CondOp
	val stagetrace.Value
	m   *matcher
}

// valueAction is a compiled AttributeAction or FindingAction: the key it
// fills, the key the span would already hold it under, and its source.
type valueAction struct {
	name  string // attribute key, or finding name
	check keyRef // attribute key that means "already there"
	from  keyRef
	val   stagetrace.Value
	fn    func(Span) (stagetrace.Value, bool)
}

func (cr *compiledRule) hasStage() bool {
	return cr.stage != "" || cr.stageFrom.key != "" || cr.stageFunc != nil
}

func (cr *compiledRule) atStart() bool { return cr.hasStage() || len(cr.attrs) > 0 }

// lookups counts the attribute lookups the rule makes, findings aside.
func (cr *compiledRule) lookups() int {
	n := len(cr.conds) + 2*len(cr.attrs)
	if cr.stageFrom.key != "" {
		n++
	}
	return n
}

// matches tests the cheap conditions first.
func (cr *compiledRule) matches(span Span, in *spanInfo) bool {
	if !cr.matchesInfo(in) {
		return false
	}
	for i := range cr.conds {
		if !cr.conds[i].holds(in.get(span, &cr.conds[i].key)) {
			return false
		}
	}
	return cr.fn == nil || cr.fn(span)
}

// matchesInfo tests the conditions on the span's name, scope and kind.
func (cr *compiledRule) matchesInfo(in *spanInfo) bool {
	if cr.kinds != 0 && cr.kinds&(1<<in.kind) == 0 {
		return false
	}
	if cr.nameM != nil && !cr.nameM.match(in.name) {
		return false
	}
	return cr.scopeM == nil || cr.scopeM.match(in.scope)
}

// holds tests the condition on the value of its key, ok false when the
// span lacks it.
func (c *cond) holds(v stagetrace.Value, ok bool) bool {
	switch c.op {
	case OpExists:
		return ok
	case OpAbsent:
		return !ok
	case OpEquals:
		return ok && valueEquals(v, c.val)
	case OpMatches, OpGlob:
		if !ok {
			return false
		}
		switch v.Kind() {
		case stagetrace.KindString:
			return c.m.match(v.AsString())
		case stagetrace.KindStringSlice:
			for _, e := range v.AsStringSlice() {
				if c.m.match(e) {
					return true
				}
			}
		}
	}
	return false
}

func valueEquals(v, want stagetrace.Value) bool {
	switch want.Kind() {
	case stagetrace.KindInt64, stagetrace.KindFloat64:
		if v.Kind() == stagetrace.KindInt64 && want.Kind() == stagetrace.KindInt64 {
			return v.AsInt64() == want.AsInt64()
		}
		a, ok1 := v.Number()
		b, _ := want.Number()
		return ok1 && a == b
	}
	return v.Equal(want)
}

// apply adds what the rule yields to r.
func (cr *compiledRule) apply(span Span, in *spanInfo, r *Result, end bool) {
	if r.Stage == "" {
		switch {
		case cr.stage != "":
			r.Stage = cr.stage
		case cr.stageFrom.key != "":
			if v, ok := in.get(span, &cr.stageFrom); ok && v.Kind() == stagetrace.KindString {
				r.Stage = v.AsString()
			}
		case cr.stageFunc != nil:
			if st, ok := cr.stageFunc(span); ok {
				r.Stage = st
			}
		}
	}
	for i := range cr.attrs {
		r.Attributes = cr.attrs[i].add(span, in, r.Attributes)
	}
	if end {
		for i := range cr.findings {
			r.Findings = cr.findings[i].add(span, in, r.Findings)
		}
	}
}

// add appends the action's value to dst unless dst or the span already
// has it: the first rule to give a value wins, and rules never overwrite
// what the span recorded itself. The source is read first: on most spans
// most sources are absent, which ends the work with one lookup.
func (a *valueAction) add(span Span, in *spanInfo, dst stagetrace.Attrs) stagetrace.Attrs {
	for i := range dst {
		if dst[i].Key == a.name {
			return dst
		}
	}
	var (
		v  stagetrace.Value
		ok bool
	)
	switch {
	case a.from.key != "":
		if v, ok = in.get(span, &a.from); !ok {
			return dst
		}
		if _, has := in.get(span, &a.check); has {
			return dst
		}
	default:
		if _, has := in.get(span, &a.check); has {
			return dst
		}
		if a.fn != nil {
			v, ok = a.fn(span)
		} else {
			v, ok = a.val, true
		}
	}
	if !ok || v.Kind() == stagetrace.KindEmpty {
		return dst
	}
	return append(dst, stagetrace.Attr{Key: a.name, Value: v})
}

// compileRule checks r and compiles it. Errors name the field at fault;
// the caller fills in the rule.
func compileRule(r Rule) (compiledRule, *Error) {
	var cr compiledRule
	var err error
	m := r.Match
	if !m.SpanName.IsZero() {
		if cr.nameM, err = compilePattern(m.SpanName); err != nil {
			return cr, fieldErr("match.span_name", err)
		}
	}
	if !m.Scope.IsZero() {
		if cr.scopeM, err = compilePattern(m.Scope); err != nil {
			return cr, fieldErr("match.scope", err)
		}
	}
	for i, k := range m.SpanKinds {
		if k > stagetrace.SpanKindConsumer {
			return cr, fieldErr(fmt.Sprintf("match.span_kind[%d]", i), fmt.Errorf("unknown span kind %d", k))
		}
		cr.kinds |= 1 << k
	}
	for i, c := range m.Attributes {
		cc, err := compileCond(c)
		if err != nil {
			return cr, fieldErr(fmt.Sprintf("match.attributes[%d]", i), err)
		}
		cr.conds = append(cr.conds, cc)
	}
	cr.fn = m.Func

	n := 0
	for _, set := range []bool{r.Stage != "", r.StageFrom != "", r.StageFunc != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return cr, fieldErr("stage", errors.New("give one of a stage name, a stage attribute (from) and a stage function"))
	}
	cr.stage, cr.stageFrom, cr.stageFunc = r.Stage, newKeyRef(r.StageFrom), r.StageFunc

	for i, a := range r.Attributes {
		va, err := compileAttrAction(a)
		if err != nil {
			return cr, fieldErr(fmt.Sprintf("attributes[%d]", i), err)
		}
		cr.attrs = append(cr.attrs, va)
	}
	for i, f := range r.Findings {
		va, err := compileFindingAction(f)
		if err != nil {
			return cr, fieldErr(fmt.Sprintf("findings[%d]", i), err)
		}
		cr.findings = append(cr.findings, va)
	}
	if !cr.hasStage() && len(cr.attrs) == 0 && len(cr.findings) == 0 {
		return cr, fieldErr("", errors.New("no action: give a stage, attributes or findings"))
	}
	return cr, nil
}

func compileCond(c AttributeCondition) (cond, error) {
	cc := cond{key: newKeyRef(c.Key), op: c.Op, val: c.Value}
	if c.Key == "" {
		return cc, errors.New("key: missing")
	}
	switch c.Op {
	case OpExists, OpAbsent:
	case OpEquals:
		switch c.Value.Kind() {
		case stagetrace.KindEmpty:
			return cc, errors.New("equals: missing value")
		case stagetrace.KindFloat64:
			if f := c.Value.AsFloat64(); f != f {
				return cc, errors.New("equals: NaN never equals anything")
			}
		}
	case OpMatches:
		m, err := compilePattern(Pattern{Regex: c.Pattern})
		if err != nil {
			return cc, fmt.Errorf("matches: %w", err)
		}
		cc.m = m
	case OpGlob:
		m, err := compilePattern(Pattern{Glob: c.Pattern})
		if err != nil {
			return cc, fmt.Errorf("glob: %w", err)
		}
		cc.m = m
	default:
		return cc, fmt.Errorf("unknown test %v", c.Op)
	}
	return cc, nil
}

// reservedTarget explains why key cannot be set by an attribute action,
// or returns "".
func reservedTarget(key string) string {
	switch {
	case key == string(attributes.RunID), key == string(attributes.StageInherited):
		return key + " places the span in a run and cannot be set by a rule"
	case key == string(attributes.RunStage):
		return "set the stage with stage:, not as an attribute"
	case strings.HasPrefix(key, attributes.FindingPrefix):
		return "record findings with findings:, not as attributes"
	}
	return ""
}

func compileAttrAction(a AttributeAction) (valueAction, error) {
	va := valueAction{name: a.Attribute, check: newKeyRef(a.Attribute), from: newKeyRef(a.From), val: a.Value, fn: a.Func}
	if a.Attribute == "" {
		return va, errors.New("attribute: missing")
	}
	if why := reservedTarget(a.Attribute); why != "" {
		return va, fmt.Errorf("attribute: %s", why)
	}
	if a.From == a.Attribute {
		return va, errors.New("from: copies the attribute onto itself")
	}
	return va, checkSource(a.From, a.Value, a.Func != nil)
}

func compileFindingAction(f FindingAction) (valueAction, error) {
	va := valueAction{name: f.Name, check: newKeyRef(string(attributes.FindingKey(f.Name))), from: newKeyRef(f.From), val: f.Value, fn: f.Func}
	if f.Name == "" {
		return va, errors.New("name: missing")
	}
	if strings.HasPrefix(f.Name, attributes.FindingPrefix) {
		return va, fmt.Errorf("name: %q is a key; give the finding name without %q", f.Name, attributes.FindingPrefix)
	}
	return va, checkSource(f.From, f.Value, f.Func != nil)
}

func checkSource(from string, v stagetrace.Value, fn bool) error {
	n := 0
	if from != "" {
		n++
	}
	if v.Kind() != stagetrace.KindEmpty {
		n++
	}
	if fn {
		n++
	}
	switch n {
	case 0:
		return errors.New("give one of from and value")
	case 1:
		return nil
	}
	return errors.New("give only one of from and value")
}
