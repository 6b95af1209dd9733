package sqlfields_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// TestColumnsAreBuiltins checks that every column named here is of a
// built-in field of the type its table says, so that a filter the parser
// accepts finds its column.
func TestColumnsAreBuiltins(t *testing.T) {
	for name := range sqlfields.StringColumns {
		typ, ok := query.Builtin(name)
		assert.True(t, ok, name)
		assert.Equal(t, query.TypeString, typ, name)
	}
	for name := range sqlfields.OptionalColumns {
		assert.Contains(t, sqlfields.StringColumns, name)
	}
	for name := range sqlfields.EnumColumns {
		typ, ok := query.Builtin(name)
		assert.True(t, ok, name)
		assert.Equal(t, query.TypeEnum, typ, name)
	}
}

func TestSourceOf(t *testing.T) {
	assert.Equal(t, sqlfields.SourceAttr, sqlfields.SourceOf(query.SourceAttr))
	assert.Equal(t, sqlfields.SourceFinding, sqlfields.SourceOf(query.SourceFinding))
	assert.NotEqual(t, sqlfields.SourceAttr, sqlfields.SourceFinding)
}

func TestCheckIndexed(t *testing.T) {
	assert.NoError(t, sqlfields.CheckIndexed(nil))
	assert.NoError(t, sqlfields.CheckIndexed(sqlfields.DefaultIndexedAttrs()))
	assert.EqualError(t, sqlfields.CheckIndexed([]string{"a", "", ""}), "an indexed attribute key is empty")
}
