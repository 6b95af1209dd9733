package stagetrace

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A string slice held by reference reads, compares and encodes as one held
// by value.
func TestStringSliceRef(t *testing.T) {
	s := []string{"a", "", "\n"}
	ref, val := StringSliceRef(&s), StringSliceValue(s)
	assert.Equal(t, KindStringSlice, ref.Kind())
	assert.Equal(t, s, ref.AsStringSlice())
	assert.Equal(t, s, ref.AsInterface())
	assert.True(t, ref.Equal(val))
	assert.True(t, val.Equal(ref))
	assert.Equal(t, string(appendValue(nil, val)), string(appendValue(nil, ref)))
	assert.Equal(t, val.String(), ref.String())
	assert.Nil(t, ref.AsSlice())
	assert.Nil(t, Int64Value(1).AsStringSlice())
	var none []string
	assert.Empty(t, StringSliceRef(&none).AsStringSlice())
}
