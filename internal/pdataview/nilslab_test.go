package pdataview

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// A nil *Slab converts as AppendMap does, string slices included: views
// with no Slab call its method all the same.
func TestNilSlabAppendMap(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("s", "v")
	m.PutInt("i", 3)
	strs := m.PutEmptySlice("strs")
	strs.AppendEmpty().SetStr("a")
	strs.AppendEmpty().SetStr("b")
	var s *Slab
	assert.Equal(t, AppendMap(nil, m), s.AppendMap(nil, m))
}
