// Package sqlfields holds the SQL columns of the built-in span fields
// that the SQL stores (sink/sqlitesink, sink/postgressink) share: both
// keep spans in a table aliased s with the same column names.
//
// Every name here reaches SQL text; none comes from a caller, so a filter
// can only choose among them (see each store's where.go).
package sqlfields

import (
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/rules"
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
		string(rules.GenAIProviderName),
	}
}
