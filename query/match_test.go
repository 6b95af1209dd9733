package query_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

func sampleSpan() *stagetrace.StageSpan {
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return &stagetrace.StageSpan{
		RunID:   "run-1",
		Stage:   "inference",
		Name:    "chat gpt-4o",
		TraceID: stagetrace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  stagetrace.SpanID{1},
		Status:  stagetrace.StatusError,
		Kind:    stagetrace.SpanKindClient,
		Scope:   "chatbot/llm",
		// 1.5 ms.
		StartTime: start,
		EndTime:   start.Add(1500 * time.Microsecond),
		Attrs: stagetrace.Attrs{
			{Key: "gen_ai.usage.input_tokens", Value: num(1000)},
			{Key: "gen_ai.request.model", Value: str("gpt-4o")},
			{Key: "http.status", Value: str("200")},
			{Key: "name", Value: str("attribute called name")},
			{Key: "nan", Value: flt(math.NaN())},
			{Key: "list", Value: stagetrace.StringSliceValue([]string{"a"})},
			{Key: "big", Value: num(1 << 60)},
		},
		Findings: stagetrace.Attrs{
			{Key: "input_tokens", Value: num(1000)},
			{Key: "score", Value: flt(0.87)},
			{Key: "safe", Value: stagetrace.BoolValue(true)},
			{Key: "label", Value: str("b")},
		},
	}
}

func TestMatch(t *testing.T) {
	span := sampleSpan()
	tests := []struct {
		where string
		want  bool
	}{
		// Numbers compare as numbers: 1000 > 99, though "1000" < "99".
		{"finding.input_tokens>99", true},
		{"finding.input_tokens<99", false},
		{"finding.input_tokens=1000.0", true},
		{"finding.input_tokens>=1000 and finding.input_tokens<=1000", true},
		{"finding.score>0.5 and finding.score<1", true},
		{"finding.score!=0.87", false},
		// Dotted keys are keys.
		{"gen_ai.usage.input_tokens>99", true},
		{"attr.gen_ai.usage.input_tokens=1000", true},
		{"gen_ai.usage exists", false},
		// Mixing types is no match, with every operator.
		{`finding.input_tokens="1000"`, false},
		{`finding.input_tokens!="1000"`, false},
		{"http.status=200", false},
		{`http.status="200"`, true},
		{`http.status>"1000"`, true}, // strings compare as strings
		{"http.status>100", false},
		{"finding.safe=true", true},
		{"finding.safe!=true", false},
		{"finding.safe=1", false},
		{"finding.label>a", true},
		{"finding.label~^b$", true},
		{"finding.input_tokens~0", false}, // regexes match strings only
		// A missing key matches nothing, != included.
		{"finding.missing!=1", false},
		{"finding.missing exists", false},
		{"finding.score exists", true},
		{"list exists", true},
		{"list=a", false},
		// NaN matches no comparison.
		{"nan=0", false},
		{"nan!=0", false},
		{"nan exists", true},
		// int64 beyond 2^53 compare exactly with each other.
		{"big>1152921504606846975", true},
		{"big=1152921504606846976", true},
		// Built-in fields.
		{"name=\"chat gpt-4o\"", true},
		{"name~^chat", true},
		{"name~^gpt", false},
		{`attr.name="attribute called name"`, true},
		{"stage=inference and run_id=run-1 and scope=chatbot/llm", true},
		{"stage exists", true},
		{"status=error", true},
		{"status!=error", false},
		{`status~"^(ok|error)$"`, true},
		{"kind=client", true},
		{"kind=server", false},
		{"trace_id=0102030405060708090a0b0c0d0e0f10", true},
		{"trace_id=0102030405060708090A0B0C0D0E0F10", true}, // ids compare as ids
		{"trace_id~0A0B", false},                            // the hex form matched is lowercase
		{"trace_id~^010203", true},
		{"trace_id!=00000000000000000000000000000001", true},
		{"elapsed_ms>1 and elapsed_ms<2", true},
		{"elapsed_ms=1.5", true},
		{"start_time=2024-05-01T10:00:00Z", true},
		{"start_time>=1714557600 and start_time<1714557600.001", true},
		{"start_time>2024-05-01T10:00:00Z", false},
		{"start_time<2024-05-01T12:00:00+02:00", false}, // the same instant
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			filters, err := query.Parse(tt.where)
			require.NoError(t, err)
			assert.Equal(t, tt.want, query.MatchAll(filters, span))
		})
	}
}

func TestMatchEmptyStageAndScope(t *testing.T) {
	span := sampleSpan()
	span.Stage, span.Scope = "", ""
	for where, want := range map[string]bool{
		"stage exists": false,
		"scope exists": false,
		`stage=""`:     false,
		"name exists":  true,
		"stage!=x":     false,
	} {
		assert.Equal(t, want, query.MatchAll(query.MustParse(where), span), where)
	}
}

func TestMatchInvalidFilterMatchesNothing(t *testing.T) {
	f := query.Filter{Field: "status", Op: query.OpGt, Value: str("ok")}
	assert.False(t, f.Match(sampleSpan()))
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b stagetrace.Value
		c    int
		ok   bool
	}{
		{num(1000), num(99), 1, true},
		{num(1000), flt(99.5), 1, true},
		{flt(2), num(2), 0, true},
		{str("1000"), str("99"), -1, true},
		{str("a"), num(1), 0, false},
		{stagetrace.BoolValue(false), stagetrace.BoolValue(true), -1, true},
		{stagetrace.BoolValue(true), num(1), 0, false},
		{flt(math.NaN()), flt(1), 0, false},
		{stagetrace.StringSliceValue(nil), stagetrace.StringSliceValue(nil), 0, false},
	}
	for _, tt := range tests {
		c, ok := query.Compare(tt.a, tt.b)
		assert.Equal(t, tt.ok, ok, "%#v vs %#v", tt.a, tt.b)
		if tt.ok {
			assert.Equal(t, tt.c, c, "%#v vs %#v", tt.a, tt.b)
		}
	}
}

func TestLookup(t *testing.T) {
	span := sampleSpan()
	v, ok := query.Lookup(span, query.Ref{Source: query.SourceBuiltin, Name: query.FieldStartTime})
	require.True(t, ok)
	assert.Equal(t, "2024-05-01T10:00:00Z", v.AsString())
	v, ok = query.Lookup(span, query.Ref{Source: query.SourceBuiltin, Name: query.FieldElapsedMS})
	require.True(t, ok)
	assert.Equal(t, 1.5, v.AsFloat64())
	_, ok = query.Lookup(span, query.Ref{Source: query.SourceFinding, Name: "nope"})
	assert.False(t, ok)
}

func TestRegexpIsCachedAndBounded(t *testing.T) {
	a, err := query.Regexp("^x+$")
	require.NoError(t, err)
	b, err := query.Regexp("^x+$")
	require.NoError(t, err)
	assert.Same(t, a, b)
	for i := range 300 {
		_, err := query.Regexp("p" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		require.NoError(t, err)
	}
	_, err = query.Regexp("(")
	assert.Error(t, err)
}

func TestOpHolds(t *testing.T) {
	tests := []struct {
		op         query.Op
		lt, eq, gt bool
	}{
		{query.OpEq, false, true, false},
		{query.OpNe, true, false, true},
		{query.OpGt, false, false, true},
		{query.OpGe, false, true, true},
		{query.OpLt, true, false, false},
		{query.OpLe, true, true, false},
		{query.OpMatch, false, false, false},
		{query.OpExists, false, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.op), func(t *testing.T) {
			assert.Equal(t, tt.lt, tt.op.Holds(-1))
			assert.Equal(t, tt.eq, tt.op.Holds(0))
			assert.Equal(t, tt.gt, tt.op.Holds(1))
			assert.Equal(t, tt.lt, tt.op.HoldsFloat(1, 2))
			assert.False(t, tt.op.HoldsFloat(math.NaN(), 2), "NaN")
		})
	}
}

func TestParseOp(t *testing.T) {
	for _, s := range []string{"=", "!=", ">", ">=", "<", "<=", "~", "!~", "exists"} {
		op, ok := query.ParseOp(s)
		assert.True(t, ok, s)
		assert.Equal(t, query.Op(s), op)
	}
	op, ok := query.ParseOp("=~")
	assert.True(t, ok)
	assert.Equal(t, query.OpMatch, op)
	_, ok = query.ParseOp("==")
	assert.False(t, ok)
}

func TestLabelMatcher(t *testing.T) {
	tests := []struct {
		in    string
		value string
		want  bool
	}{
		{"stage=inference", "inference", true},
		{"stage!=inference", "inference", false},
		{"model=~^gpt", "gpt-4o", true},
		{"model~^gpt", "o1", false},
		{"model!~^gpt", "o1", true},
		{"region=", "", true},
	}
	for _, tt := range tests {
		m, err := query.ParseLabelMatcher(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, m.Matches(tt.value), tt.in)
		back, err := query.ParseLabelMatcher(m.Name + string(m.Op) + m.Value)
		require.NoError(t, err)
		assert.Equal(t, m, back, "read back")
	}
	for _, bad := range []string{"stage", "=x", "a!b", "a=~("} {
		_, err := query.ParseLabelMatcher(bad)
		assert.Error(t, err, bad)
	}
}
