package query

import (
	"cmp"
	"math"
	"regexp"
	"sync"
	"time"

	"github.com/stagetrace/stagetrace"
)

// Match reports whether span satisfies the filter. A filter that does not
// validate matches nothing.
func (f Filter) Match(span *stagetrace.StageSpan) bool {
	ref, err := f.check()
	if err != nil {
		return false
	}
	if ref.Source == SourceBuiltin && builtins[ref.Name] == TypeTime {
		if f.Op == OpExists {
			return true
		}
		t, _ := TimeOf(f.Value)
		c := cmp.Compare(span.StartTime.UnixNano(), t.UnixNano())
		return f.Op.Holds(c)
	}
	if ref.Source == SourceBuiltin && builtins[ref.Name] == TypeID && (f.Op == OpEq || f.Op == OpNe) {
		// Ids compare as ids: the case of the hex digits does not matter.
		id, _ := ParseTraceID(f.Value.AsString())
		return (span.TraceID == id) == (f.Op == OpEq)
	}
	v, ok := Lookup(span, ref)
	if !ok {
		return false
	}
	if f.Op == OpExists {
		return true
	}
	return compare(f.Op, v, f.Value)
}

// MatchAll reports whether span satisfies every filter.
func MatchAll(filters []Filter, span *stagetrace.StageSpan) bool {
	for i := range filters {
		if !filters[i].Match(span) {
			return false
		}
	}
	return true
}

// Lookup returns the value ref names in span and whether the span has it.
// Built-in string fields other than name and run_id exist only when not
// empty; status and kind are their names, trace_id its hex form,
// elapsed_ms a float64 and start_time an RFC 3339 string in UTC.
func Lookup(span *stagetrace.StageSpan, ref Ref) (stagetrace.Value, bool) {
	switch ref.Source {
	case SourceAttr:
		return span.Attrs.Get(ref.Name)
	case SourceFinding:
		return span.Findings.Get(ref.Name)
	}
	str := func(s string) (stagetrace.Value, bool) { return stagetrace.StringValue(s), s != "" }
	switch ref.Name {
	case FieldName:
		return stagetrace.StringValue(span.Name), true
	case FieldRunID:
		return stagetrace.StringValue(span.RunID), true
	case FieldStage:
		return str(span.Stage)
	case FieldScope:
		return str(span.Scope)
	case FieldStatus:
		return stagetrace.StringValue(span.Status.String()), true
	case FieldKind:
		return stagetrace.StringValue(span.Kind.String()), true
	case FieldTraceID:
		return stagetrace.StringValue(span.TraceID.String()), true
	case FieldElapsedMS:
		return stagetrace.Float64Value(span.ElapsedMS()), true
	case FieldStartTime:
		return stagetrace.StringValue(span.StartTime.UTC().Format(time.RFC3339Nano)), true
	}
	return stagetrace.Value{}, false
}

// compare applies op to a span's value v and a filter's value w: numbers
// as numbers, strings as strings, booleans with = and != only; values of
// different types, and NaN, never match.
func compare(op Op, v, w stagetrace.Value) bool {
	if op.IsMatch() {
		if v.Kind() != stagetrace.KindString {
			return false
		}
		re, err := Regexp(w.AsString())
		return err == nil && re.MatchString(v.AsString()) == (op == OpMatch)
	}
	c, ok := Compare(v, w)
	return ok && op.Holds(c)
}

// Compare orders two values of the same type: numbers numerically (int64
// against int64 exactly, otherwise as float64), strings by bytes, false
// before true. ok is false for values of different types, for NaN and for
// kinds other than bool, numbers and strings.
func Compare(v, w stagetrace.Value) (c int, ok bool) {
	if v.Kind() == stagetrace.KindInt64 && w.Kind() == stagetrace.KindInt64 {
		return cmp.Compare(v.AsInt64(), w.AsInt64()), true
	}
	if a, okA := v.Number(); okA {
		b, okB := w.Number()
		if !okB || math.IsNaN(a) || math.IsNaN(b) {
			return 0, false
		}
		return cmp.Compare(a, b), true
	}
	switch {
	case v.Kind() != w.Kind():
		return 0, false
	case v.Kind() == stagetrace.KindString:
		return cmp.Compare(v.AsString(), w.AsString()), true
	case v.Kind() == stagetrace.KindBool:
		return cmp.Compare(b2i(v.AsBool()), b2i(w.AsBool())), true
	}
	return 0, false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// regexpCache holds compiled patterns, so that evaluating a filter over
// many spans compiles its pattern once. It is emptied when full: patterns
// come from users, and a long-running process must not grow without end.
var regexpCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

const maxCachedRegexps = 256

// Regexp compiles a ~ pattern (Go RE2 syntax), caching the result.
func Regexp(pattern string) (*regexp.Regexp, error) {
	regexpCache.Lock()
	re, ok := regexpCache.m[pattern]
	regexpCache.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	regexpCache.Lock()
	if regexpCache.m == nil || len(regexpCache.m) >= maxCachedRegexps {
		regexpCache.m = make(map[string]*regexp.Regexp)
	}
	regexpCache.m[pattern] = re
	regexpCache.Unlock()
	return re, nil
}
