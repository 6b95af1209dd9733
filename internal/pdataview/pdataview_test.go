package pdataview

import (
	"strconv"
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

// A Slab converts as AppendMap does, string slices into its own arrays:
// the values converted before it grows stay as they were, until Reuse.
func TestSlabAppendMap(t *testing.T) {
	var slab Slab
	var got []stagetrace.Attrs
	for i := range 100 {
		m := pcommon.NewMap()
		require.NoError(t, m.FromRaw(map[string]any{
			"strs":  []any{"a", strconv.Itoa(i)},
			"mixed": []any{"a", int64(i)},
			"empty": []any{},
			"n":     int64(i),
		}))
		got = append(got, slab.AppendMap(nil, m))
	}
	for i, attrs := range got {
		strs, _ := attrs.Get("strs")
		assert.Equal(t, []string{"a", strconv.Itoa(i)}, strs.AsStringSlice(), "%d", i)
		mixed, _ := attrs.Get("mixed")
		require.Equal(t, stagetrace.KindSlice, mixed.Kind())
		assert.Equal(t, int64(i), mixed.AsSlice()[1].AsInt64())
		empty, _ := attrs.Get("empty")
		assert.Equal(t, stagetrace.KindSlice, empty.Kind())
		n, _ := attrs.Get("n")
		assert.Equal(t, int64(i), n.AsInt64())
	}
	slab.Reuse()
	m := pcommon.NewMap()
	m.PutEmptySlice("strs").AppendEmpty().SetStr("new")
	strs, _ := slab.AppendMap(nil, m).Get("strs")
	assert.Equal(t, []string{"new"}, strs.AsStringSlice())
}

// Once a Slab has grown to a batch's string slices, converting the next
// batch's after Reuse costs no allocation.
func TestSlabReusedAllocatesNothing(t *testing.T) {
	m := pcommon.NewMap()
	reasons := m.PutEmptySlice("gen_ai.response.finish_reasons")
	reasons.AppendEmpty().SetStr("stop")
	reasons.AppendEmpty().SetStr("length")
	m.PutStr("gen_ai.request.model", "gpt-4o")
	var slab Slab
	dst := make(stagetrace.Attrs, 0, 64*m.Len())
	batch := func() {
		slab.Reuse()
		dst = dst[:0]
		for range 64 {
			dst = slab.AppendMap(dst, m)
		}
	}
	batch()
	allocs := testing.AllocsPerRun(20, batch)
	assert.Zero(t, allocs)
	got, _ := dst[len(dst)-2:].Get("gen_ai.response.finish_reasons")
	assert.Equal(t, []string{"stop", "length"}, got.AsStringSlice())
}
