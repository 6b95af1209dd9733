package query_test

import (
	"errors"
	"strings"
	"testing"

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
