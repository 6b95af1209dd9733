package rules_test

import (
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

func str(s string) stagetrace.Value { return stagetrace.StringValue(s) }
func i64(n int64) stagetrace.Value  { return stagetrace.Int64Value(n) }

// nameMatches reports whether a rule matching span names by p matches
// name, through the public API.
func nameMatches(t *testing.T, p rules.Pattern, name string) bool {
	t.Helper()
	set, err := rules.New(rules.Rule{Match: rules.Match{SpanName: p}, Stage: "hit"})
	require.NoError(t, err)
	return set.End(&rules.SpanData{SpanName: name}).Stage == "hit"
}

func TestGlob(t *testing.T) {
	cases := []struct {
		glob, name string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"chat", "chat", true},
		{"chat", "chat ", false},
		{"chat *", "chat gpt-4o", true},
		{"chat *", "chat ", true},
		{"chat *", "chat", false},
		{"chat *", "text chat x", false},
		{"*.chat", "openai.chat", true},
		{"*.chat", "openai.chatx", false},
		{"*embed*", "text-embedding-3", true},
		{"*embed*", "text-embe", false},
		{"a*z", "az", true},
		{"a*z", "abcz", true},
		{"a*z", "a", false},
		{"ab*ba", "aba", false}, // prefix and suffix may not overlap
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"a*b*c", "abcbc", true},
		{"?", "é", true}, // ? is one character, not one byte
		{"?", "ab", false},
		{"??", "é", false},
		{"chat ?pt*", "chat gpt-4o", true},
		{"*?x", "x", false},
		{"*?x", "éx", true},
		{"*a?", "bab", true},
		{"*a?", "ba", false},
		{`lit\*`, "lit*", true},
		{`lit\*`, "litx", false},
		{`\?`, "?", true},
		{`\?`, "x", false},
		{"a**b", "ab", true},
		{"*x*y*", "--x--y--", true},
		{"*x*y*", "--y--x--", false},
	}
	for _, c := range cases {
		t.Run(c.glob+"|"+c.name, func(t *testing.T) {
			assert.Equal(t, c.want, nameMatches(t, rules.Glob(c.glob), c.name))
		})
	}
}

func TestRegexPattern(t *testing.T) {
	assert.True(t, nameMatches(t, rules.Regex(`^chat\s`), "chat gpt"))
	assert.False(t, nameMatches(t, rules.Regex(`^chat\s`), "xchat gpt"))
	assert.True(t, nameMatches(t, rules.Regex(`gpt`), "chat gpt-4o"), "unanchored regex matches anywhere")
}

// globRegexp is a reference implementation of the glob syntax.
func globRegexp(g string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(g); {
		r, w := utf8.DecodeRuneInString(g[i:])
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+w == len(g) {
				return nil, false
			}
			_, w2 := utf8.DecodeRuneInString(g[i+w:])
			b.WriteString(regexp.QuoteMeta(g[i+w : i+w+w2]))
			w += w2
		default:
			b.WriteString(regexp.QuoteMeta(g[i : i+w]))
		}
		i += w
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	return re, err == nil
}

func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"chat *", "chat gpt"}, {"*a?b*", "xxaébyy"}, {"a*b*c", "abcbc"}, {`\**`, "*x"}, {"??", "é"}, {`\é*`, "éa"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, name string) {
		if glob == "" || !utf8.ValidString(glob) || !utf8.ValidString(name) {
			t.Skip()
		}
		re, ok := globRegexp(glob)
		set, err := rules.New(rules.Rule{Match: rules.Match{SpanName: rules.Glob(glob)}, Stage: "hit"})
		if !ok {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		got := set.End(&rules.SpanData{SpanName: name}).Stage == "hit"
		require.Equal(t, re.MatchString(name), got, "glob %q name %q", glob, name)
	})
}

// conditionSpan is the span the match conditions are tried on.
func conditionSpan() *rules.SpanData {
	return &rules.SpanData{
		SpanName:  "chat gpt-4o",
		ScopeName: "opentelemetry.instrumentation.openai_v2",
		SpanKind:  stagetrace.SpanKindClient,
		Attrs: stagetrace.Attrs{
			{Key: string(attributes.GenAIOperationName), Value: str("chat")},
			{Key: string(attributes.GenAIRequestModel), Value: str("gpt-4o")},
			{Key: "http.status_code", Value: i64(200)},
			{Key: "score", Value: stagetrace.Float64Value(0.5)},
			{Key: "cached", Value: stagetrace.BoolValue(false)},
			{Key: string(attributes.GenAIResponseFinishReasons), Value: stagetrace.StringSliceValue([]string{"length", "stop"})},
		},
	}
}

// conditionCases are match conditions of every kind and whether each
// holds on conditionSpan.
var conditionCases = []struct {
	name string
	m    rules.Match
	want bool
}{
	{"empty matches all", rules.Match{}, true},
	{"name glob", rules.Match{SpanName: rules.Glob("chat *")}, true},
	{"name glob miss", rules.Match{SpanName: rules.Glob("embed*")}, false},
	{"name regex", rules.Match{SpanName: rules.Regex(`gpt-\d`)}, true},
	{"scope glob", rules.Match{Scope: rules.Glob("opentelemetry.instrumentation.*")}, true},
	{"scope miss", rules.Match{Scope: rules.Glob("openinference.*")}, false},
	{"kind", rules.Match{SpanKinds: []stagetrace.SpanKind{stagetrace.SpanKindServer, stagetrace.SpanKindClient}}, true},
	{"kind miss", rules.Match{SpanKinds: []stagetrace.SpanKind{stagetrace.SpanKindInternal}}, false},
	{"exists", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists("cached")}}, true},
	{"exists miss", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists("nope")}}, false},
	{"absent", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrAbsent("nope")}}, true},
	{"absent miss", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrAbsent("cached")}}, false},
	{"equals string", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals(string(attributes.GenAIOperationName), str("chat"))}}, true},
	{"equals string miss", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals(string(attributes.GenAIOperationName), str("embeddings"))}}, false},
	{"equals int", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals("http.status_code", i64(200))}}, true},
	{"equals int as float", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals("http.status_code", stagetrace.Float64Value(200))}}, true},
	{"equals float", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals("score", stagetrace.Float64Value(0.5))}}, true},
	{"equals string vs int", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals("http.status_code", str("200"))}}, false},
	{"equals bool", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals("cached", stagetrace.BoolValue(false))}}, true},
	{"matches", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrMatches(string(attributes.GenAIRequestModel), "^gpt-4")}}, true},
	{"matches non-string", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrMatches("http.status_code", "200")}}, false},
	{"matches slice element", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrMatches(string(attributes.GenAIResponseFinishReasons), "^stop$")}}, true},
	{"glob", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrGlob(string(attributes.GenAIRequestModel), "gpt-*")}}, true},
	{"glob missing attr", rules.Match{Attributes: []rules.AttributeCondition{rules.AttrGlob("nope", "*")}}, false},
	{"func", rules.Match{Func: func(s rules.Span) bool { return strings.HasSuffix(s.Name(), "4o") }}, true},
	{"all must hold", rules.Match{SpanName: rules.Glob("chat *"), SpanKinds: []stagetrace.SpanKind{stagetrace.SpanKindInternal}}, false},
}

func TestMatchConditions(t *testing.T) {
	span := conditionSpan()
	cases := conditionCases
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err := rules.New(rules.Rule{Match: c.m, Stage: "hit"})
			require.NoError(t, err)
			assert.Equal(t, c.want, set.End(span).Stage == "hit")
			assert.Equal(t, c.want, set.Start(span).Stage == "hit", "the same at start")
		})
	}
}

func TestRuleOrder(t *testing.T) {
	set, err := rules.New(
		rules.Rule{
			Name:  "no-stage",
			Match: rules.Match{SpanName: rules.Glob("chat *")},
			Findings: []rules.FindingAction{
				{Name: "absent", From: "not.there"}, // yields nothing: later rules may fill it
				{Name: "first", Value: str("rule 1")},
			},
		},
		rules.Rule{
			Name:       "first-stage",
			Match:      rules.Match{SpanName: rules.Glob("chat *")},
			StageFrom:  "not.there", // yields no stage: the next rule's counts
			Attributes: []rules.AttributeAction{{Attribute: "a", Value: str("rule 2")}},
		},
		rules.Rule{
			Name:       "chat",
			Match:      rules.Match{SpanName: rules.Glob("chat *")},
			Stage:      "chat",
			Attributes: []rules.AttributeAction{{Attribute: "a", Value: str("rule 3")}, {Attribute: "b", Value: str("rule 3")}},
			Findings:   []rules.FindingAction{{Name: "first", Value: str("rule 3")}, {Name: "absent", Value: str("rule 3")}},
		},
		rules.Rule{
			Name:       "any",
			Stage:      "other",
			Attributes: []rules.AttributeAction{{Attribute: "c", Value: str("rule 4")}, {Attribute: "own", Value: str("rule 4")}},
			Findings:   []rules.FindingAction{{Name: "own", Value: str("rule 4")}},
		},
	)
	require.NoError(t, err)
	span := &rules.SpanData{SpanName: "chat x", Attrs: stagetrace.Attrs{
		{Key: "own", Value: str("span")},
		{Key: string(attributes.FindingKey("own")), Value: str("span")},
	}}
	r := set.End(span)
	assert.Equal(t, "chat", r.Stage, "the first rule that yields a stage wins")
	assert.Equal(t, stagetrace.Attrs{
		{Key: "a", Value: str("rule 2")},
		{Key: "b", Value: str("rule 3")},
		{Key: "c", Value: str("rule 4")},
	}, r.Attributes, "attributes accumulate in rule order, first value wins, the span's own are kept")
	assert.Equal(t, stagetrace.Attrs{
		{Key: "first", Value: str("rule 1")},
		{Key: "absent", Value: str("rule 3")},
	}, r.Findings, "findings accumulate in rule order, first value wins, the span's own are kept")

	other := set.End(&rules.SpanData{SpanName: "embed"})
	assert.Equal(t, "other", other.Stage)
}

func TestStartPhase(t *testing.T) {
	var findingRuleCalls atomic.Int32
	set, err := rules.New(
		rules.Rule{
			Name: "findings-only",
			Match: rules.Match{Func: func(rules.Span) bool {
				findingRuleCalls.Add(1)
				return true
			}},
			Findings: []rules.FindingAction{{Name: attributes.FindingInputTokens, From: string(attributes.GenAIUsageInputTokens)}},
		},
		rules.Rule{
			Name:      "stage",
			StageFrom: string(attributes.GenAIOperationName),
			Attributes: []rules.AttributeAction{
				{Attribute: "app.model", From: string(attributes.GenAIRequestModel)},
				{Attribute: "app.tokens", From: string(attributes.GenAIUsageInputTokens)},
			},
		},
		rules.Rule{
			Name:  "late",
			Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists(string(attributes.GenAIUsageOutputTokens))}},
			Stage: "never-at-start",
			Attributes: []rules.AttributeAction{
				{Attribute: "app.late", Value: stagetrace.BoolValue(true)},
			},
		},
	)
	require.NoError(t, err)
	startAttrs := stagetrace.Attrs{
		{Key: string(attributes.GenAIOperationName), Value: str("chat")},
		{Key: string(attributes.GenAIRequestModel), Value: str("gpt-4o")},
	}
	start := set.Start(&rules.SpanData{SpanName: "chat gpt-4o", Attrs: startAttrs})
	assert.Equal(t, "chat", start.Stage)
	assert.Equal(t, stagetrace.Attrs{{Key: "app.model", Value: str("gpt-4o")}}, start.Attributes,
		"only sources present at start are copied")
	assert.Empty(t, start.Findings, "findings are an End-phase action")
	assert.Zero(t, findingRuleCalls.Load(), "rules with only findings do not run at start")

	end := set.End(&rules.SpanData{SpanName: "chat gpt-4o", Attrs: append(startAttrs[:2:2],
		stagetrace.Attr{Key: string(attributes.GenAIUsageInputTokens), Value: i64(7)},
		stagetrace.Attr{Key: string(attributes.GenAIUsageOutputTokens), Value: i64(3)},
	)})
	assert.Equal(t, "chat", end.Stage)
	assert.Equal(t, stagetrace.Attrs{
		{Key: "app.model", Value: str("gpt-4o")},
		{Key: "app.tokens", Value: i64(7)},
		{Key: "app.late", Value: stagetrace.BoolValue(true)},
	}, end.Attributes)
	assert.Equal(t, stagetrace.Attrs{{Key: attributes.FindingInputTokens, Value: i64(7)}}, end.Findings)
	assert.Equal(t, int32(1), findingRuleCalls.Load())
}

func TestFuncActions(t *testing.T) {
	set, err := rules.New(rules.Rule{
		StageFunc: func(s rules.Span) (string, bool) {
			v, ok := s.Attribute("step")
			return "step-" + v.String(), ok
		},
		Attributes: []rules.AttributeAction{{Attribute: "name.len", Func: func(s rules.Span) (stagetrace.Value, bool) {
			return i64(int64(len(s.Name()))), true
		}}},
		Findings: []rules.FindingAction{{Name: "ratio", Func: func(s rules.Span) (stagetrace.Value, bool) {
			in, ok1 := s.Attribute("in")
			out, ok2 := s.Attribute("out")
			if !ok1 || !ok2 || in.AsInt64() == 0 {
				return stagetrace.Value{}, false
			}
			return stagetrace.Float64Value(float64(out.AsInt64()) / float64(in.AsInt64())), true
		}}},
	})
	require.NoError(t, err)
	r := set.End(&rules.SpanData{SpanName: "abc", Attrs: stagetrace.Attrs{
		{Key: "step", Value: i64(2)}, {Key: "in", Value: i64(4)}, {Key: "out", Value: i64(1)},
	}})
	assert.Equal(t, "step-2", r.Stage)
	assert.Equal(t, stagetrace.Attrs{{Key: "name.len", Value: i64(3)}}, r.Attributes)
	assert.Equal(t, stagetrace.Attrs{{Key: "ratio", Value: stagetrace.Float64Value(0.25)}}, r.Findings)

	none := set.End(&rules.SpanData{SpanName: "abc"})
	assert.Empty(t, none.Stage)
	assert.Empty(t, none.Findings)
}

func TestNewErrors(t *testing.T) {
	stage := func(r rules.Rule) rules.Rule { r.Stage = "s"; return r }
	cases := []struct {
		name  string
		rules []rules.Rule
		want  string
	}{
		{"bad regex", []rules.Rule{stage(rules.Rule{Name: "chat", Match: rules.Match{SpanName: rules.Regex("(")}})},
			`rule 1 ("chat"): match.span_name: bad regex: error parsing regexp`},
		{"bad glob", []rules.Rule{stage(rules.Rule{Match: rules.Match{Scope: rules.Glob(`x\`)}})},
			`rule 1: match.scope: bad glob: "x\\" ends with an unpaired \`},
		{"both glob and regex", []rules.Rule{stage(rules.Rule{Match: rules.Match{SpanName: rules.Pattern{Glob: "a", Regex: "b"}}})},
			`match.span_name: both glob and regex given`},
		{"bad kind", []rules.Rule{stage(rules.Rule{Match: rules.Match{SpanKinds: []stagetrace.SpanKind{9}}})},
			`match.span_kind[0]: unknown span kind 9`},
		{"condition without key", []rules.Rule{stage(rules.Rule{Match: rules.Match{Attributes: []rules.AttributeCondition{{Op: rules.OpExists}}}})},
			`match.attributes[0]: key: missing`},
		{"condition bad regex", []rules.Rule{rules.Rule{}, stage(rules.Rule{Name: "x", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrMatches("k", "[")}}})},
			`rule 1: no action`},
		{"condition bad regex 2", []rules.Rule{stage(rules.Rule{Name: "x", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists("k"), rules.AttrMatches("k", "[")}}})},
			`rule 1 ("x"): match.attributes[1]: matches: bad regex`},
		{"equals nothing", []rules.Rule{stage(rules.Rule{Match: rules.Match{Attributes: []rules.AttributeCondition{{Key: "k", Op: rules.OpEquals}}}})},
			`equals: missing value`},
		{"unknown op", []rules.Rule{stage(rules.Rule{Match: rules.Match{Attributes: []rules.AttributeCondition{{Key: "k", Op: 42}}}})},
			`unknown test CondOp(42)`},
		{"two stages", []rules.Rule{{Stage: "a", StageFrom: "b"}}, `stage: give one of`},
		{"no action", []rules.Rule{{Name: "idle"}}, `rule 1 ("idle"): no action`},
		{"duplicate name", []rules.Rule{stage(rules.Rule{Name: "a"}), stage(rules.Rule{Name: "b"}), stage(rules.Rule{Name: "a"})},
			`rule 3 ("a"): name: duplicate rule name "a" (also rule 1)`},
		{"attribute without source", []rules.Rule{{Attributes: []rules.AttributeAction{{Attribute: "x"}}}}, `attributes[0]: give one of from and value`},
		{"attribute with two sources", []rules.Rule{{Attributes: []rules.AttributeAction{{Attribute: "x", From: "y", Value: str("z")}}}}, `attributes[0]: give only one`},
		{"attribute onto itself", []rules.Rule{{Attributes: []rules.AttributeAction{{Attribute: "x", From: "x"}}}}, `copies the attribute onto itself`},
		{"run.id target", []rules.Rule{{Attributes: []rules.AttributeAction{{Attribute: string(attributes.RunID), From: "session.id"}}}}, `run.id places the span in a run`},
		{"run.stage target", []rules.Rule{{Attributes: []rules.AttributeAction{{Attribute: string(attributes.RunStage), Value: str("x")}}}}, `set the stage with stage:`},
		{"finding target", []rules.Rule{{Attributes: []rules.AttributeAction{{Attribute: "finding.x", Value: str("x")}}}}, `record findings with findings:`},
		{"finding with prefix", []rules.Rule{{Findings: []rules.FindingAction{{Name: "finding.x", Value: str("x")}}}}, `give the finding name without "finding."`},
		{"finding without name", []rules.Rule{{Findings: []rules.FindingAction{{From: "x"}}}}, `findings[0]: name: missing`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rules.New(c.rules...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			var re *rules.Error
			assert.ErrorAs(t, err, &re)
		})
	}
}

func TestEvalReusesResult(t *testing.T) {
	set := twentyRules(t)
	span := benchSpan()
	var r rules.Result
	set.Eval(rules.PhaseEnd, span, &r) // size the slices
	allocs := testing.AllocsPerRun(100, func() {
		set.Eval(rules.PhaseEnd, span, &r)
	})
	if !raceEnabled {
		assert.Zero(t, allocs, "matching and applying rules into a sized Result allocates nothing")
	}
	assert.NotEmpty(t, r.Findings, "the benchmark span matches rules with findings")
	assert.Equal(t, "llm", r.Stage)

	var nilSet *rules.Set
	nilSet.Eval(rules.PhaseEnd, span, &r)
	assert.Empty(t, r.Stage, "a nil Set derives nothing")
	assert.Empty(t, r.Findings)
}

func TestStageSpanView(t *testing.T) {
	s := &stagetrace.StageSpan{
		Name: "n", Scope: "sc", Kind: stagetrace.SpanKindServer, RunID: "r-1", Stage: "st",
		Attrs:    stagetrace.Attrs{{Key: "a", Value: i64(1)}},
		Findings: stagetrace.Attrs{{Key: "f", Value: i64(2)}},
	}
	v := rules.StageSpanView(s)
	assert.Equal(t, "n", v.Name())
	assert.Equal(t, "sc", v.Scope())
	assert.Equal(t, stagetrace.SpanKindServer, v.Kind())
	for key, want := range map[string]stagetrace.Value{
		"a": i64(1), string(attributes.FindingKey("f")): i64(2),
		string(attributes.RunID): str("r-1"), string(attributes.RunStage): str("st"),
	} {
		got, ok := v.Attribute(key)
		assert.True(t, ok, key)
		assert.True(t, want.Equal(got), "%s: %#v", key, got)
	}
	_, ok := v.Attribute("finding.nope")
	assert.False(t, ok)
	s.Stage = ""
	_, ok = v.Attribute(string(attributes.RunStage))
	assert.False(t, ok, "no stage is no run.stage attribute")
}

// TestKeyValueSpan evaluates presets on OpenTelemetry key-values, as a
// processor does on a starting SDK span.
func TestKeyValueSpan(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: rules.PresetNames()})
	require.NoError(t, err)
	assert.True(t, set.NeedsStart())
	for _, f := range loadFixtures(t) {
		all := f.endSpan()
		view := &rules.KeyValueSpan{SpanName: all.SpanName, ScopeName: all.ScopeName, SpanKind: all.SpanKind, Attrs: kvs(all.Attrs)}
		assert.Equal(t, set.End(all), set.End(view), f.file)
	}

	// The SDK keeps the last value set for a key.
	last := &rules.KeyValueSpan{Attrs: kvs(stagetrace.Attrs{
		{Key: string(attributes.GenAIOperationName), Value: str("chat")},
		{Key: string(attributes.GenAIOperationName), Value: str("embeddings")},
	})}
	assert.Equal(t, "embeddings", set.Start(last).Stage)
}

func TestNeedsStart(t *testing.T) {
	findingsOnly, err := rules.New(rules.Rule{Findings: []rules.FindingAction{{Name: "x", Value: i64(1)}}})
	require.NoError(t, err)
	assert.False(t, findingsOnly.NeedsStart())
	var none *rules.Set
	assert.False(t, none.NeedsStart())
	withStage, err := rules.New(rules.Rule{Stage: "s"})
	require.NoError(t, err)
	assert.True(t, withStage.NeedsStart())
}

func TestStartReadsScope(t *testing.T) {
	var none *rules.Set
	assert.False(t, none.StartReadsScope())
	genai, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	require.NoError(t, err)
	assert.False(t, genai.StartReadsScope(), "the GenAI preset's start rules read attributes only")
	cases := map[string]rules.Rule{
		"scope match": {Match: rules.Match{Scope: rules.Glob("openai*")}, Stage: "s"},
		"match func":  {Match: rules.Match{Func: func(rules.Span) bool { return true }}, Stage: "s"},
		"stage func":  {StageFunc: func(rules.Span) (string, bool) { return "s", true }},
		"attr func": {Attributes: []rules.AttributeAction{{Attribute: "a", Func: func(rules.Span) (stagetrace.Value, bool) {
			return stagetrace.StringValue("v"), true
		}}}},
	}
	for name, r := range cases {
		set, err := rules.New(r)
		require.NoError(t, err, name)
		assert.True(t, set.StartReadsScope(), name)
	}
	// A scope condition on a rule that only records findings runs at the
	// end only.
	endOnly, err := rules.New(rules.Rule{Match: rules.Match{Scope: rules.Glob("x")}, Findings: []rules.FindingAction{{Name: "x", Value: i64(1)}}})
	require.NoError(t, err)
	assert.False(t, endOnly.StartReadsScope())
}

func TestErrorUnwraps(t *testing.T) {
	_, err := rules.New(rules.Rule{Match: rules.Match{SpanName: rules.Regex("(")}, Stage: "s"})
	var re *rules.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 1, re.Rule)
	assert.Equal(t, "match.span_name", re.Field)
	assert.Error(t, errors.Unwrap(err))
	assert.Contains(t, errors.Unwrap(err).Error(), "bad regex")
}
