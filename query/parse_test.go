package query_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

func str(s string) stagetrace.Value  { return stagetrace.StringValue(s) }
func num(i int64) stagetrace.Value   { return stagetrace.Int64Value(i) }
func flt(f float64) stagetrace.Value { return stagetrace.Float64Value(f) }

// assertFilters compares filters field by field, values with Equal (so
// that int64 500 and float64 500 differ).
func assertFilters(t *testing.T, want, got []query.Filter) {
	t.Helper()
	require.Len(t, got, len(want), "got %v", got)
	for i := range want {
		assert.Equal(t, want[i].Field, got[i].Field, "filter %d field", i)
		assert.Equal(t, want[i].Op, got[i].Op, "filter %d op", i)
		assert.True(t, want[i].Value.Equal(got[i].Value), "filter %d value: want %#v, got %#v", i, want[i].Value, got[i].Value)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []query.Filter
	}{
		{"", nil},
		{"   \t\n", nil},
		{
			`finding.input_tokens>500 and stage=inference and name~"^chat" and finding.score exists`,
			[]query.Filter{
				{Field: "finding.input_tokens", Op: query.OpGt, Value: num(500)},
				{Field: "stage", Op: query.OpEq, Value: str("inference")},
				{Field: "name", Op: query.OpMatch, Value: str("^chat")},
				{Field: "finding.score", Op: query.OpExists},
			},
		},
		{"gen_ai.usage.input_tokens >= 1000", []query.Filter{{Field: "gen_ai.usage.input_tokens", Op: query.OpGe, Value: num(1000)}}},
		{"a!=1 AND b<=2.5 And c<-3 aNd d>1e3 and e=.5", []query.Filter{
			{Field: "a", Op: query.OpNe, Value: num(1)},
			{Field: "b", Op: query.OpLe, Value: flt(2.5)},
			{Field: "c", Op: query.OpLt, Value: num(-3)},
			{Field: "d", Op: query.OpGt, Value: flt(1000)},
			{Field: "e", Op: query.OpEq, Value: flt(0.5)},
		}},
		{"x=500.0", []query.Filter{{Field: "x", Op: query.OpEq, Value: flt(500)}}},
		{`name=~"^chat" and model!~4o`, []query.Filter{
			{Field: "name", Op: query.OpMatch, Value: str("^chat")},
			{Field: "model", Op: query.OpNotMatch, Value: str("4o")},
		}},
		{"x=99999999999999999999", []query.Filter{{Field: "x", Op: query.OpEq, Value: flt(1e20)}}},
		{"ok=true and bad=FALSE", []query.Filter{
			{Field: "ok", Op: query.OpEq, Value: stagetrace.BoolValue(true)},
			{Field: "bad", Op: query.OpEq, Value: stagetrace.BoolValue(false)},
		}},
		{`model=gpt-4o and v=1.2.3 and w=inf`, []query.Filter{
			{Field: "model", Op: query.OpEq, Value: str("gpt-4o")},
			{Field: "v", Op: query.OpEq, Value: str("1.2.3")},
			{Field: "w", Op: query.OpEq, Value: str("inf")},
		}},
		{`s="a \"b\" \\ \n\t\r \u00e9" and t='don\'t'`, []query.Filter{
			{Field: "s", Op: query.OpEq, Value: str("a \"b\" \\ \n\t\r é")},
			{Field: "t", Op: query.OpEq, Value: str("don't")},
		}},
		{`"my key"="true" and n="500"`, []query.Filter{
			{Field: "my key", Op: query.OpEq, Value: str("true")},
			{Field: "n", Op: query.OpEq, Value: str("500")},
		}},
		// Built-in string fields take words and numbers as strings.
		{"stage=123 and run_id=true and status=error and kind=client", []query.Filter{
			{Field: "stage", Op: query.OpEq, Value: str("123")},
			{Field: "run_id", Op: query.OpEq, Value: str("true")},
			{Field: "status", Op: query.OpEq, Value: str("error")},
			{Field: "kind", Op: query.OpEq, Value: str("client")},
		}},
		// attr.name is the attribute, not the span name; it keeps its type.
		{"attr.name=123 and elapsed_ms>=2.5 and start_time>=1700000000 and start_time<2024-01-01T00:00:00Z", []query.Filter{
			{Field: "attr.name", Op: query.OpEq, Value: num(123)},
			{Field: "elapsed_ms", Op: query.OpGe, Value: flt(2.5)},
			{Field: "start_time", Op: query.OpGe, Value: num(1700000000)},
			{Field: "start_time", Op: query.OpLt, Value: str("2024-01-01T00:00:00Z")},
		}},
		{"trace_id=0102030405060708090A0B0C0D0E0F10 and trace_id~^01", []query.Filter{
			{Field: "trace_id", Op: query.OpEq, Value: str("0102030405060708090A0B0C0D0E0F10")},
			{Field: "trace_id", Op: query.OpMatch, Value: str("^01")},
		}},
		{"x EXISTS", []query.Filter{{Field: "x", Op: query.OpExists}}},
		// A pattern is a string, even one that reads as a number.
		{"name~123 and x~1.5 and y~1e999 and stage=1e999", []query.Filter{
			{Field: "name", Op: query.OpMatch, Value: str("123")},
			{Field: "x", Op: query.OpMatch, Value: str("1.5")},
			{Field: "y", Op: query.OpMatch, Value: str("1e999")},
			{Field: "stage", Op: query.OpEq, Value: str("1e999")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := query.Parse(tt.in)
			require.NoError(t, err)
			assertFilters(t, tt.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{"finding.input_tok 500", 19, "expected an operator"},
		{"finding.input_tokens", 21, "expected an operator (=, !=, >, >=, <, <=, ~, !~ or exists), found the end"},
		{"a=", 3, "expected a value, found the end"},
		{"a=1 and", 8, `expected a field after "and"`},
		{"a=1 or b=2", 5, `expected "and" or the end of the filter, found "or"`},
		{"a=1 b=2", 5, `expected "and" or the end of the filter, found "b"`},
		{"=1", 1, `expected a field, found "="`},
		{"a==1", 3, `expected a value, found "="`},
		{"a!1", 2, "expected an operator"},
		{`a="abc`, 3, "unterminated string"},
		{`a="ab\`, 3, "unterminated string"},
		{`a="a\qb"`, 5, "unknown escape"},
		{`a="\u12"`, 4, `\u needs four hex digits`},
		{`a~"(unclosed"`, 3, "missing closing )"},
		{"a>true", 2, "operator > needs a number or a string, not bool"},
		{"status>ok", 7, "operator > does not apply to status"},
		{"status=fine", 8, `unknown status "fine": want one of unset, ok, error`},
		{"kind=weird", 6, `unknown kind "weird"`},
		{"trace_id=abc", 10, `trace_id "abc" is not 32 hex digits`},
		{"elapsed_ms>slow", 12, "elapsed_ms compares with numbers, not string"},
		{"elapsed_ms~1", 11, "operator ~ does not apply to elapsed_ms"},
		{"start_time>yesterday", 12, `start_time "yesterday" is not an RFC 3339 time`},
		{"start_time>1e300", 12, "start_time 1e+300 is out of range"},
		{"x=1e999", 3, "number 1e999 is out of range"},
		{"finding.=1", 1, `field "finding." names no finding`},
		{"attr. exists", 1, `field "attr." names no attribute`},
		{`""=1`, 1, "empty field"},
		{"a=(1)", 3, `expected a value, found "("`},
		{"a=1\x01", 4, `expected "and" or the end of the filter, found "\x01"`},
		{"a=\x01", 3, `expected a value, found control character`},
		{"a ~ [", 5, "missing closing ]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := query.Parse(tt.in)
			require.Error(t, err, "parsed as %v", f)
			var se *query.SyntaxError
			require.True(t, errors.As(err, &se), "%T: %v", err, err)
			assert.Equal(t, tt.pos, se.Pos, "%v", err)
			assert.Contains(t, se.Msg, tt.msg)
			assert.Contains(t, err.Error(), "position ")
		})
	}
}

func TestParseQuoteEscapesAreNotDoubled(t *testing.T) {
	_, err := query.Parse(`q='it''s'`)
	var se *query.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 7, se.Pos, "the second quoted string starts right after the first")
}

func TestStringRoundTrips(t *testing.T) {
	filters := []query.Filter{
		{Field: "finding.input_tokens", Op: query.OpGt, Value: num(500)},
		{Field: "x", Op: query.OpEq, Value: flt(500)},
		{Field: "x", Op: query.OpEq, Value: flt(math.Copysign(0, -1))},
		{Field: "x", Op: query.OpEq, Value: flt(1e21)},
		{Field: "my key", Op: query.OpEq, Value: str("true")},
		{Field: "and", Op: query.OpEq, Value: str("exists")},
		{Field: "s", Op: query.OpEq, Value: str("")},
		{Field: "s", Op: query.OpEq, Value: str("500")},
		{Field: "s", Op: query.OpMatch, Value: str(`^chat "x" \d+` + "\n\x00\x7f")},
		{Field: "s", Op: query.OpEq, Value: str("bad utf-8 \xff")},
		{Field: "stage", Op: query.OpEq, Value: str("1.50")},
		{Field: "b", Op: query.OpNe, Value: stagetrace.BoolValue(false)},
		{Field: "finding.score", Op: query.OpExists},
	}
	text := query.Format(filters)
	got, err := query.Parse(text)
	require.NoError(t, err, text)
	assertFilters(t, filters, got)
	assert.Equal(t, `finding.input_tokens>500`, filters[0].String())
	assert.Equal(t, `x=500.0`, filters[1].String())
	assert.Equal(t, `"my key"="true"`, filters[4].String())
	assert.Equal(t, `finding.score exists`, filters[12].String())
}

func TestCaret(t *testing.T) {
	in := "stage=é and x 5"
	_, err := query.Parse(in)
	var se *query.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "stage=é and x 5\n              ^", query.Caret(in, se))
}

// TestCaretWideCharacters checks that the caret counts terminal cells:
// two for each CJK ideograph, fullwidth form or emoji, none for a
// combining mark.
func TestCaretWideCharacters(t *testing.T) {
	tests := []struct {
		in, line string
		cells    int // before the caret
	}{
		{"stage=推論 and x 5", "stage=推論 and x 5", 6 + 2*2 + 7},
		{"名前=ｘ and x 5", "名前=ｘ and x 5", 2*2 + 1 + 2 + 7},
		{"s=😀 and x 5", "s=😀 and x 5", 2 + 2 + 7},
		{"s=e\u0301 and x 5", "s=e\u0301 and x 5", 2 + 1 + 7},
		{"s=\t和 and x 5", "s= 和 and x 5", 3 + 2 + 7},
		{"a=1 and x 5", "a=1 and x 5", 10},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := query.Parse(tt.in)
			var se *query.SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.line+"\n"+strings.Repeat(" ", tt.cells)+"^", query.Caret(tt.in, se))
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		f   query.Filter
		err string
	}{
		{query.Filter{Field: "x", Op: query.OpGt, Value: num(1)}, ""},
		{query.Filter{Field: "x", Op: "<>", Value: num(1)}, `unknown operator "<>"`},
		{query.Filter{Field: "x", Op: query.OpGt}, "operator > needs a value"},
		{query.Filter{Field: "x", Op: query.OpExists, Value: num(1)}, "exists takes no value"},
		{query.Filter{Field: "x", Op: query.OpEq, Value: flt(nan())}, "NaN compares with nothing"},
		{query.Filter{Field: "x", Op: query.OpEq, Value: stagetrace.Int64SliceValue([]int64{1})}, "a int64[] value cannot be compared"},
		{query.Filter{Field: "run_id", Op: query.OpEq, Value: num(1)}, "run_id compares with strings, not int64"},
		{query.Filter{Field: "", Op: query.OpExists}, "empty field"},
	}
	for _, tt := range tests {
		err := tt.f.Validate()
		if tt.err == "" {
			assert.NoError(t, err)
			continue
		}
		assert.ErrorContains(t, err, tt.err)
	}
	err := query.ValidateAll([]query.Filter{{Field: "a", Op: query.OpExists}, {Field: "x", Op: "?"}})
	assert.ErrorContains(t, err, `filter 2 (x?""): unknown operator "?"`)
}

func TestParseField(t *testing.T) {
	tests := []struct {
		field string
		want  query.Ref
	}{
		{"finding.input_tokens", query.Ref{Source: query.SourceFinding, Name: "input_tokens"}},
		{"finding.a.b", query.Ref{Source: query.SourceFinding, Name: "a.b"}},
		{"attr.name", query.Ref{Source: query.SourceAttr, Name: "name"}},
		{"attr.attr.x", query.Ref{Source: query.SourceAttr, Name: "attr.x"}},
		{"name", query.Ref{Source: query.SourceBuiltin, Name: "name"}},
		{"gen_ai.usage.input_tokens", query.Ref{Source: query.SourceAttr, Name: "gen_ai.usage.input_tokens"}},
	}
	for _, tt := range tests {
		got, err := query.ParseField(tt.field)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.field)
	}
}

func TestMustParsePanics(t *testing.T) {
	assert.Len(t, query.MustParse("a=1 and b=2"), 2)
	assert.PanicsWithValue(t, `query.MustParse("a=="): position 3: expected a value, found "="`, func() { query.MustParse("a==") })
}

func nan() float64 { return math.NaN() }

// TestParseConditionLimit checks that a filter of more than MaxConditions
// conditions is refused by the parser, at the first condition past the
// limit, rather than by the store that compiles it.
func TestParseConditionLimit(t *testing.T) {
	conds := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "a=1"
		}
		return strings.Join(parts, " and ")
	}
	filters, err := query.Parse(conds(query.MaxConditions))
	require.NoError(t, err)
	assert.Len(t, filters, query.MaxConditions)
	require.NoError(t, query.ValidateAll(filters))

	for _, n := range []int{query.MaxConditions + 1, 998, 5_000} {
		in := conds(n)
		_, err := query.Parse(in)
		var se *query.SyntaxError
		require.ErrorAs(t, err, &se, "%d conditions", n)
		assert.Equal(t, query.MaxConditions*len("a=1 and ")+1, se.Pos, "points at condition %d", query.MaxConditions+1)
		assert.Equal(t, "a=1", in[se.Pos-1:se.Pos-1+3])
		assert.Contains(t, se.Msg, fmt.Sprintf("a filter holds at most %d", query.MaxConditions))
		assert.Contains(t, err.Error(), "position ")
	}
	many := append(filters, query.Filter{Field: "b", Op: query.OpExists})
	assert.ErrorContains(t, query.ValidateAll(many), fmt.Sprintf("a filter holds at most %d", query.MaxConditions))
}
