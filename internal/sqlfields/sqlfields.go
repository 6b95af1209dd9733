// Package sqlfields holds the SQL columns of the built-in span fields
// that the SQL stores (sink/sqlitesink, sink/postgressink) share: both
// keep spans in a table aliased s with the same column names.
//
// Every name here reaches SQL text; none comes from a caller, so a filter
// can only choose among them (see each store's where.go).
package sqlfields

import "github.com/stagetrace/stagetrace/query"

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
