package pdataview

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
)

func TestFromValueTypedSlices(t *testing.T) {
	m := pcommon.NewMap()
	require.NoError(t, m.FromRaw(map[string]any{
		"ints":   []any{int64(1), int64(2)},
		"dbls":   []any{1.5, 2.5},
		"bools":  []any{true, false},
		"empty":  []any{},
		"nested": []any{[]any{"a"}, map[string]any{"k": "v"}},
	}))
	get := func(k string) stagetrace.Value {
		v, ok := m.Get(k)
		require.True(t, ok)
		return FromValue(v)
	}
	assert.Equal(t, []int64{1, 2}, get("ints").AsInt64Slice())
	assert.Equal(t, []float64{1.5, 2.5}, get("dbls").AsFloat64Slice())
	assert.Equal(t, []bool{true, false}, get("bools").AsBoolSlice())
	assert.Equal(t, stagetrace.KindSlice, get("empty").Kind())
	n := get("nested")
	require.Equal(t, stagetrace.KindSlice, n.Kind())
	assert.Equal(t, []string{"a"}, n.AsSlice()[0].AsStringSlice())
	assert.Equal(t, stagetrace.KindMap, n.AsSlice()[1].Kind())
}

func TestConversions(t *testing.T) {
	assert.Equal(t, stagetrace.SpanKindClient, Kind(ptrace.SpanKindClient))
	assert.Equal(t, stagetrace.SpanKindUnspecified, Kind(ptrace.SpanKind(42)))
	assert.Equal(t, stagetrace.StatusOK, Status(ptrace.StatusCodeOk))
	assert.Equal(t, stagetrace.StatusError, Status(ptrace.StatusCodeError))
	assert.Equal(t, stagetrace.StatusUnset, Status(ptrace.StatusCodeUnset))
	assert.True(t, Time(0).IsZero())
	now := time.Unix(1_700_000_000, 5).UTC()
	assert.True(t, now.Equal(Time(pcommon.NewTimestampFromTime(now))))
}

func TestResourceSortedAndKeyed(t *testing.T) {
	a, b := pcommon.NewResource(), pcommon.NewResource()
	a.Attributes().PutStr("z", "1")
	a.Attributes().PutStr("a", "2")
	b.Attributes().PutStr("z", "1")
	b.Attributes().PutInt("a", 2)
	r := Resource(a)
	require.Len(t, r.Attrs, 2)
	assert.Equal(t, "a", r.Attrs[0].Key)
	assert.NotEqual(t, ResourceKey(a), ResourceKey(b), "a string and an int differ")
}

func TestSpanView(t *testing.T) {
	s := ptrace.NewSpan()
	s.SetName("n")
	s.Attributes().PutStr("k", "v")
	e := s.Events().AppendEmpty()
	e.SetName("ev")
	e.Attributes().PutInt("x", 1)
	v := &Span{Span: s, ScopeName: "scope"}
	assert.Equal(t, "scope", v.Scope())
	got, ok := v.Attribute("k")
	require.True(t, ok)
	assert.Equal(t, "v", got.AsString())
	_, ok = v.Attribute("missing")
	assert.False(t, ok)
	assert.Equal(t, 1, v.EventCount())
	name, _ := v.Event(0)
	assert.Equal(t, "ev", name)
	assert.Len(t, v.AppendEventAttributes(0, nil), 1)
}

// FromValueInto converts as FromValue does, overwriting every field of
// what dst held before; AppendMap appends after what dst holds.
func TestFromValueIntoAndAppendMap(t *testing.T) {
	m := pcommon.NewMap()
	require.NoError(t, m.FromRaw(map[string]any{
		"s": "v", "i": int64(7), "d": 2.5, "b": true,
		"bytes": []byte("x"), "strs": []any{"a", "b"}, "map": map[string]any{"k": "v"},
	}))
	m.PutEmpty("empty")
	for k, v := range m.All() {
		dst := stagetrace.StringSliceValue([]string{"old"})
		FromValueInto(&dst, v)
		assert.Equal(t, FromValue(v), dst, k)
	}
	head := stagetrace.Attr{Key: "first", Value: stagetrace.Int64Value(1)}
	got := AppendMap(stagetrace.Attrs{head}, m)
	require.Len(t, got, 1+m.Len())
	assert.Equal(t, head, got[0])
	i := 1
	for k, v := range m.All() {
		assert.Equal(t, k, got[i].Key)
		assert.Equal(t, FromValue(v), got[i].Value, k)
		i++
	}
}
