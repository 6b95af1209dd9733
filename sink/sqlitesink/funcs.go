package sqlitesink

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math"

	"modernc.org/sqlite"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// SQL functions the store's queries call. They are registered with the
// driver for every connection of the process; the prefix keeps them apart
// from anyone else's.
const (
	// stagetrace_regexp(pattern, text) is 1 when the Go RE2 pattern
	// matches somewhere in text, 0 otherwise and for a text that is not
	// TEXT. SQLite has no REGEXP of its own, and LIKE is not one.
	regexpFunc = "stagetrace_regexp"
	// stagetrace_value(column, key) is the scalar value of key in an
	// attrs or findings column: INTEGER or REAL for numbers, TEXT for
	// strings, 0 or 1 for booleans, NULL when absent, NaN or not scalar.
	// Ordering by a finding uses it.
	valueFunc = "stagetrace_value"
)

// funcErr is why the functions could not be registered (another package
// took the names); queries needing them return it.
var funcErr error

func init() {
	funcErr = errors.Join(
		sqlite.RegisterDeterministicScalarFunction(regexpFunc, 2, regexpSQL),
		sqlite.RegisterDeterministicScalarFunction(valueFunc, 2, valueSQL),
	)
	if funcErr != nil {
		funcErr = fmt.Errorf("sqlitesink: registering SQL functions: %w", funcErr)
	}
}

func regexpSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	pattern, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("%s: pattern is %T, not text", regexpFunc, args[0])
	}
	text, ok := args[1].(string)
	if !ok {
		return int64(0), nil
	}
	re, err := query.Regexp(pattern)
	if err != nil {
		return nil, err
	}
	if re.MatchString(text) {
		return int64(1), nil
	}
	return int64(0), nil
}

func valueSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	blob, _ := args[0].([]byte)
	key, ok := args[1].(string)
	if !ok || len(blob) == 0 {
		return nil, nil
	}
	attrs, err := decodeAttrs(blob)
	if err != nil {
		return nil, err
	}
	v, ok := attrs.Get(key)
	if !ok {
		return nil, nil
	}
	return sortValue(v), nil
}

// sortValue is the value stagetrace_value returns for v: what an ORDER BY
// on it compares. SelectSpans orders by the same.
func sortValue(v stagetrace.Value) driver.Value {
	switch v.Kind() {
	case stagetrace.KindInt64:
		return v.AsInt64()
	case stagetrace.KindFloat64:
		if f := v.AsFloat64(); !math.IsNaN(f) {
			return f
		}
	case stagetrace.KindString:
		return v.AsString()
	case stagetrace.KindBool:
		if v.AsBool() {
			return int64(1)
		}
		return int64(0)
	}
	return nil
}
