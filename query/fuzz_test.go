package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// FuzzParse checks that Parse never panics, that its errors are
// SyntaxErrors inside the text, and that what it reads is written back by
// Format in a form it reads as the same filters.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`finding.input_tokens>500 and stage=inference and name~"^chat" and finding.score exists`,
		`gen_ai.usage.input_tokens>=1e3 and x!=-0.5 and ok=TRUE`,
		`s="a \"b\" \\ \n\u00e9" and t='x' and "my key"=""`,
		`start_time>2024-01-01T00:00:00Z and trace_id=0102030405060708090a0b0c0d0e0f10`,
		`status=error and kind~cl and elapsed_ms<=12.5`,
		`a=1 or b=2`,
		`a="unterminated`,
		`x=99999999999999999999 and y=1e999`,
		strings.Repeat("a=1 and ", query.MaxConditions) + "a=1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		filters, err := query.Parse(in)
		if err != nil {
			var se *query.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T is not a *SyntaxError: %v", in, err, err)
			}
			if se.Pos < 1 || se.Pos > len(in)+1 {
				t.Fatalf("Parse(%q): position %d outside the text", in, se.Pos)
			}
			return
		}
		for _, fl := range filters {
			if err := fl.Validate(); err != nil {
				t.Fatalf("Parse(%q) returned a filter that does not validate: %v", in, err)
			}
		}
		text := query.Format(filters)
		again, err := query.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %v; Parse(Format) = %v", in, text, err)
		}
		if len(again) != len(filters) {
			t.Fatalf("round trip of %q through %q: %d filters, want %d", in, text, len(again), len(filters))
		}
		for i := range filters {
			a, b := filters[i], again[i]
			if a.Field != b.Field || a.Op != b.Op || !a.Value.Equal(b.Value) {
				t.Fatalf("round trip of %q through %q: filter %d is %#v, want %#v", in, text, i, b, a)
			}
		}
	})
}

// FuzzLogFilters checks that any filter text either fails to parse, fails
// CheckLogFilters with an error, or is evaluated on log events of every
// level without a panic, matching nothing when it does not check, and
// that the level range a store selects by never leaves out an event that
// MatchLog accepts.
func FuzzLogFilters(f *testing.F) {
	for _, seed := range []string{
		`severity>=warn`,
		`severity<critical and severity>debug and body~"time(out)?"`,
		`severity=WARNING and severity_text!="" and run_id=""`,
		`severity_number>24 and stage exists and trace_id=0102030405060708090a0b0c0d0e0f10`,
		`severity<verbose`,
		`severity>=loud`,
		`name=x`,
		`attempt>=2 and attr.body exists`,
	} {
		f.Add(seed, int64(13), "WARN")
	}
	f.Fuzz(func(t *testing.T, in string, number int64, text string) {
		filters, err := query.Parse(in)
		if err != nil {
			return
		}
		checkErr := query.CheckLogFilters(filters)
		lo, hi, ok := query.LevelRange(filters)
		ev := stagetrace.TraceEvent{
			Name: stagetrace.LogEventName, RunID: text, Stage: text,
			Severity: stagetrace.Severity{Number: number, Text: text},
			Body:     stagetrace.StringValue(text),
			Attrs:    stagetrace.Attrs{{Key: "attempt", Value: stagetrace.Int64Value(number)}},
		}
		matched := query.MatchLog(filters, &ev)
		if checkErr != nil && matched {
			t.Fatalf("%q does not check (%v) but matched", in, checkErr)
		}
		if matched {
			l := ev.Severity.Level()
			if !ok || l < lo || l > hi {
				t.Fatalf("%q matched an event of level %s outside the range [%s, %s] (ok %v) a store selects", in, l, lo, hi, ok)
			}
		}
	})
}
