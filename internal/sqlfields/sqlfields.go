// Package sqlfields holds the SQL columns of the built-in span fields
// that the SQL stores (sink/sqlitesink, sink/postgressink) share: both
// keep spans in a table aliased s with the same column names.
//
// Every name here reaches SQL text; none comes from a caller, so a filter
// can only choose among them (see each store's where.go).
package sqlfields

import (
	"errors"
	"slices"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
)

// StringColumns are the columns of the built-in string fields.
var StringColumns = map[string]string{
	query.FieldName:  "s.name",
	query.FieldStage: "s.stage",
	query.FieldRunID: "s.run_id",
	query.FieldScope: "s.scope",
}

// OptionalColumns are the built-in string fields that a span has only
// when not empty (see query.Lookup).
var OptionalColumns = map[string]bool{query.FieldStage: true, query.FieldScope: true}

// EnumColumns are the columns of the built-in enum fields, which hold
// their codes.
var EnumColumns = map[string]string{
	query.FieldStatus: "s.status",
	query.FieldKind:   "s.kind",
}

// EnumCodes returns the codes of the built-in enum field name (status,
// kind) whose values f, a valid filter on name, matches: the few codes a
// column of codes is compared with, computed with the rules query.Match
// applies to the names.
func EnumCodes(name string, f query.Filter) []int {
	var codes []int
	for _, n := range query.EnumNames(name) {
		code, _ := query.EnumValue(name, n)
		var s stagetrace.StageSpan
		switch name {
		case query.FieldStatus:
			s.Status = stagetrace.StatusCode(code)
		case query.FieldKind:
			s.Kind = stagetrace.SpanKind(code)
		}
		if (query.Filter{Field: name, Op: f.Op, Value: f.Value}).Match(&s) {
			codes = append(codes, code)
		}
	}
	return codes
}

// Value types in span_values.type: how a value compares. Numbers (and
// booleans) compare as numbers, strings as strings; the others exist but
// compare with nothing.
const (
	TypeOther  = 0 // slices, maps, bytes and NaN
	TypeNumber = 1
	TypeString = 2
	TypeBool   = 3
)

// Sources in span_values.source.
const (
	SourceAttr    = 0
	SourceFinding = 1
)

// SourceOf is the span_values.source code of a reference's source: an
// attribute's or a finding's.
func SourceOf(src query.Source) int {
	if src == query.SourceFinding {
		return SourceFinding
	}
	return SourceAttr
}

// DefaultIndexedAttrs returns the attribute keys the SQL stores index when
// their WithIndexedAttrs option is not given: the GenAI keys with few
// distinct values that spans are most often picked by. Findings are
// always indexed.
func DefaultIndexedAttrs() []string {
	return []string{
		string(attributes.GenAIRequestModel),
		string(attributes.GenAIResponseModel),
		string(attributes.GenAIOperationName),
		string(attributes.GenAISystem),
		string(attributes.GenAIProviderName),
	}
}

// CheckIndexed returns an error when one of the attribute keys given to a
// store's WithIndexedAttrs is empty.
func CheckIndexed(keys []string) error {
	if slices.Contains(keys, "") {
		return errors.New("an indexed attribute key is empty")
	}
	return nil
}
