package query

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// HintSample is how many spans UnknownFields reads to learn the attribute
// keys and finding names in use, when a filter names one no span carries.
const HintSample = 2000

// FieldHint says that a filter's field is carried by no stored span, and
// names the known field nearest to it, if any.
type FieldHint struct {
	// Field is the field as the filter wrote it.
	Field string
	// Suggest is the nearest field the store knows ("run_id" for "run"),
	// written as a filter would write it; "" when none is near.
	Suggest string
}

// String reads: no stored span has the attribute "run"; did you mean run_id?
func (h FieldHint) String() string {
	ref, _ := ParseField(h.Field)
	what := "attribute"
	if ref.Source == SourceFinding {
		what = "finding"
	}
	s := fmt.Sprintf("no stored span has the %s %q", what, ref.Name)
	if h.Suggest != "" {
		s += "; did you mean " + h.Suggest + "?"
	}
	return s
}

// UnknownFields returns a hint for each attribute or finding that where
// names and that no span r holds carries: a filter on it matches nothing,
// which reads like an empty store unless said. Built-in fields are always
// known. The keys in use are learned from the first HintSample spans.
func UnknownFields(ctx context.Context, r Reader, where []Filter) ([]FieldHint, error) {
	var hints []FieldHint
	var known []string
	for _, f := range where {
		ref, err := ParseField(f.Field)
		if err != nil || ref.Source == SourceBuiltin {
			continue
		}
		spans, err := r.Spans(ctx, SpanQuery{Where: []Filter{{Field: f.Field, Op: OpExists}}, Limit: 1, Attrs: []string{f.Field}})
		if err != nil {
			return nil, err
		}
		if len(spans) > 0 {
			continue
		}
		if known == nil {
			if known, err = knownFields(ctx, r); err != nil {
				return nil, err
			}
		}
		hints = append(hints, FieldHint{Field: f.Field, Suggest: Nearest(f.Field, known)})
	}
	return hints, nil
}

// knownFields lists the built-in fields and the attribute keys and finding
// names of a sample of spans, as filters write them.
func knownFields(ctx context.Context, r Reader) ([]string, error) {
	seen := map[string]bool{}
	for name := range builtins {
		seen[name] = true
	}
	spans, err := r.Spans(ctx, SpanQuery{Limit: HintSample})
	if err != nil {
		return nil, err
	}
	for i := range spans {
		for _, a := range spans[i].Attrs {
			if _, builtin := builtins[a.Key]; builtin {
				seen[AttrPrefix+a.Key] = true
			} else {
				seen[a.Key] = true
			}
		}
		for _, f := range spans[i].Findings {
			seen["finding."+f.Key] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Nearest returns the candidate nearest to field: one whose name field's
// name is the start or the end of ("run" → "run_id", "finding.tokens" →
// "finding.input_tokens"), else the one fewest edits away when that is
// close enough to be a slip, else "". A finding is compared with findings
// only, anything else with attributes and built-in fields. Ties go to the
// first candidate in order.
func Nearest(field string, candidates []string) string {
	isFinding, name := splitField(field)
	if name == "" {
		return ""
	}
	best, bestD := "", -1
	for _, c := range candidates {
		cf, cn := splitField(c)
		if cf != isFinding || cn == "" {
			continue
		}
		if cn == name {
			return c
		}
		var d int
		switch {
		case strings.HasPrefix(cn, name) || strings.HasSuffix(cn, name) ||
			len(cn) >= 3 && strings.HasPrefix(name, cn):
			// A part of the name, or the name with a stray suffix: as near
			// as one edit, whatever the lengths.
			d = 1
		default:
			d = editDistance(name, cn)
			if d > max(2, len(name)/3) {
				continue
			}
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// splitField returns whether field names a finding, and its name
// lowercased without the finding. or attr. prefix.
func splitField(field string) (finding bool, name string) {
	field = strings.ToLower(field)
	if n, ok := strings.CutPrefix(field, "finding."); ok {
		return true, n
	}
	return false, strings.TrimPrefix(field, AttrPrefix)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
