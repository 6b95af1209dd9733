package sqlitesink

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

func everyKind() stagetrace.Attrs {
	return stagetrace.Attrs{
		{Key: "empty", Value: stagetrace.Value{}},
		{Key: "b", Value: stagetrace.BoolValue(true)},
		{Key: "i", Value: stagetrace.Int64Value(math.MinInt64)},
		{Key: "f", Value: stagetrace.Float64Value(-2.5)},
		{Key: "nan", Value: stagetrace.Float64Value(math.NaN())},
		{Key: "s", Value: stagetrace.StringValue("hé\x00")},
		{Key: "bytes", Value: stagetrace.BytesValue([]byte{0, 255})},
		{Key: "bs", Value: stagetrace.BoolSliceValue([]bool{true, false})},
		{Key: "is", Value: stagetrace.Int64SliceValue([]int64{1, -1})},
		{Key: "fs", Value: stagetrace.Float64SliceValue([]float64{0.5, math.Inf(-1)})},
		{Key: "ss", Value: stagetrace.StringSliceValue([]string{"a", ""})},
		{Key: "slice", Value: stagetrace.SliceValue(stagetrace.Int64Value(1), stagetrace.StringValue("x"), stagetrace.SliceValue())},
		{Key: "map", Value: stagetrace.MapValue(
			stagetrace.Attr{Key: "k", Value: stagetrace.StringValue("v")},
			stagetrace.Attr{Key: "m", Value: stagetrace.MapValue()})},
		{Key: "", Value: stagetrace.StringValue(strings.Repeat("long ", 1000))},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	want := everyKind()
	got, err := decodeAttrs(appendAttrs(nil, want))
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Key, got[i].Key)
		assert.True(t, want[i].Value.Equal(got[i].Value), "%s: %#v, got %#v", want[i].Key, want[i].Value, got[i].Value)
	}
	none, err := decodeAttrs(nil)
	require.NoError(t, err)
	assert.Nil(t, none)
}

func TestCodecRefusesCorruptColumns(t *testing.T) {
	good := appendAttrs(nil, everyKind())
	// Every truncation is an error, never a panic or a wrong value.
	for n := 1; n < len(good); n++ {
		_, err := decodeAttrs(good[:n])
		assert.ErrorIs(t, err, errCorrupt, "truncated to %d bytes", n)
	}
	for _, bad := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // a huge count
		{1, 1, 'k', 200}, // an unknown kind
		append(good, 0),  // trailing bytes
		rawDeep(10, 2),   // a slice count the column cannot hold
	} {
		_, err := decodeAttrs(bad)
		assert.ErrorIs(t, err, errCorrupt)
	}
}

// nested returns n slices, one inside the other, around the int 1.
func nested(n int) stagetrace.Value {
	v := stagetrace.Int64Value(1)
	for range n {
		v = stagetrace.SliceValue(v)
	}
	return v
}

// deep encodes n slices, one inside the other.
func deep(n int) []byte {
	return appendAttrs(nil, stagetrace.Attrs{{Key: "d", Value: nested(n)}})
}

// rawDeep builds, byte by byte, the column of attribute "d" holding n
// slices one inside the other around the int 1, each claiming count
// elements, as a writer without the depth limit would have written it.
func rawDeep(n int, count byte) []byte {
	b := []byte{1, 1, 'd'}
	for range n {
		b = append(b, byte(stagetrace.KindSlice), count)
	}
	return append(b, byte(stagetrace.KindInt64), 2)
}

func TestCodecTruncatesValuesNestedPastMaxDepth(t *testing.T) {
	for _, n := range []int{stagetrace.MaxDepth, stagetrace.MaxDepth + 1, 20_000} {
		want, _ := stagetrace.LimitDepth(nested(n))
		got, err := decodeAttrs(deep(n))
		require.NoError(t, err, "depth %d", n)
		require.Len(t, got, 1)
		assert.True(t, want.Equal(got[0].Value), "depth %d: %#v", n, got[0].Value)
	}
}

func TestCodecReadsColumnsNestedPastMaxDepth(t *testing.T) {
	// A column written before the limit: it still reads, truncated as a
	// write would truncate it today, and nothing after it is lost.
	for _, n := range []int{stagetrace.MaxDepth + 1, 100_000} {
		want, _ := stagetrace.LimitDepth(nested(n))
		got, err := decodeAttrs(rawDeep(n, 1))
		require.NoError(t, err, "depth %d", n)
		require.Len(t, got, 1)
		assert.True(t, want.Equal(got[0].Value), "depth %d", n)
	}
	// A map past the limit is skipped by its members, keys included.
	deepMap := stagetrace.MapValue(stagetrace.Attr{Key: "a", Value: nested(3)}, stagetrace.Attr{Key: "b", Value: stagetrace.StringValue("x")})
	v := deepMap
	for range stagetrace.MaxDepth {
		v = stagetrace.SliceValue(v)
	}
	col := []byte{2, 1, 'd'}
	col = appendRaw(col, v)
	col = appendString(col, "after")
	col = appendValue(col, stagetrace.StringValue("kept"), 0)
	got, err := decodeAttrs(col)
	require.NoError(t, err)
	require.Len(t, got, 2)
	want, n := stagetrace.LimitDepth(v)
	assert.Equal(t, 1, n)
	assert.True(t, want.Equal(got[0].Value))
	assert.Equal(t, "kept", got[1].Value.AsString())
}

// appendRaw writes v as appendValue did before the depth limit.
func appendRaw(dst []byte, v stagetrace.Value) []byte {
	switch v.Kind() {
	case stagetrace.KindSlice:
		dst = append(dst, byte(stagetrace.KindSlice))
		dst = binary.AppendUvarint(dst, uint64(len(v.AsSlice())))
		for _, e := range v.AsSlice() {
			dst = appendRaw(dst, e)
		}
		return dst
	case stagetrace.KindMap:
		dst = append(dst, byte(stagetrace.KindMap))
		dst = binary.AppendUvarint(dst, uint64(len(v.AsMap())))
		for _, kv := range v.AsMap() {
			dst = appendString(dst, kv.Key)
			dst = appendRaw(dst, kv.Value)
		}
		return dst
	}
	return appendValue(dst, v, 0)
}

func FuzzDecodeAttrs(f *testing.F) {
	f.Add(appendAttrs(nil, everyKind()))
	f.Add([]byte{})
	f.Add(deep(10))
	f.Add(rawDeep(stagetrace.MaxDepth+2, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		attrs, err := decodeAttrs(b)
		if err != nil {
			return
		}
		// What decodes encodes back to what decodes the same.
		again, err := decodeAttrs(appendAttrs(nil, attrs))
		if err != nil {
			t.Fatalf("re-encoded attrs do not decode: %v", err)
		}
		if !again.Equal(attrs) {
			t.Fatalf("round trip changed %#v into %#v", attrs, again)
		}
	})
}

// FuzzLookupAttr checks that lookupAttr, which reads past the attributes
// it does not want, finds what decodeAttrs and Attrs.Get find, and fails
// only on a column decodeAttrs refuses too.
func FuzzLookupAttr(f *testing.F) {
	f.Add(appendAttrs(nil, everyKind()), "string")
	f.Add(appendAttrs(nil, stagetrace.Attrs{{Key: "k", Value: stagetrace.Int64Value(1)}, {Key: "k", Value: stagetrace.Int64Value(2)}}), "k")
	f.Add([]byte{}, "k")
	f.Add(deep(10), "k")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		got, found, err := lookupAttr(b, key)
		attrs, derr := decodeAttrs(b)
		if derr != nil {
			return // lookupAttr may stop before the damage
		}
		if err != nil {
			t.Fatalf("lookupAttr failed on a column that decodes: %v", err)
		}
		want, ok := attrs.Get(key)
		if found != ok || (ok && !got.Equal(want)) {
			t.Fatalf("lookupAttr(%q) = %v, %v; Get = %v, %v", key, got, found, want, ok)
		}
	})
}

func TestEventsColumnRoundTrip(t *testing.T) {
	span := stagetrace.StageSpan{RunID: "r", Stage: "s", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{2}}
	events := []*stagetrace.TraceEvent{
		{Name: "a", Time: time.Unix(1, 5).UTC(), Attrs: everyKind()},
		{Name: "b", Time: time.Unix(2, 0).UTC()},
	}
	w := &batchWriter{}
	got, err := decodeEvents(w.eventsBlob(events), &span)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i, ev := range events {
		assert.Equal(t, ev.Name, got[i].Name)
		assert.True(t, ev.Time.Equal(got[i].Time))
		assert.True(t, ev.Attrs.Equal(got[i].Attrs))
		assert.Equal(t, "r", got[i].RunID)
		assert.Equal(t, "s", got[i].Stage)
		assert.Equal(t, span.SpanID, got[i].SpanID)
	}
}

// TestFindingFilterUsesTheValueIndex checks the plan SQLite picks for a
// finding filter: a search of span_values by key and value, not a scan.
func TestFindingFilterUsesTheValueIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "plan.db"))
	require.NoError(t, err)
	defer s.Close()
	ix, err := s.indexedKeys(context.Background())
	require.NoError(t, err)
	for _, where := range []string{"finding.input_tokens>500", `gen_ai.request.model="gpt-4o"`, "finding.score exists"} {
		text, args, err := spansSQL(SpanQuery{Where: query.MustParse(where)}, false, ix)
		require.NoError(t, err)
		joined := explain(t, s, text, args)
		assert.Contains(t, joined, "SEARCH v USING PRIMARY KEY (source=? AND key_id=?", where)
		assert.NotContains(t, joined, "SCAN v", where)
	}
}

// TestWalkByStartGivesTheSameSpans runs queries both ways SQLite may find
// their spans, walking the start-time index or collecting matches: the
// results are the same, and the walk needs no sort.
func TestWalkByStartGivesTheSameSpans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "walk.db"))
	require.NoError(t, err)
	defer s.Close()
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var b stagetrace.Batch
	for i := range 300 {
		sp := stagetrace.StageSpan{
			RunID: fmt.Sprintf("r%d", i/10), Stage: []string{"retrieval", "inference"}[i%2], Name: "s",
			TraceID: stagetrace.TraceID{byte(i / 10), 1}, SpanID: stagetrace.SpanID{byte(i), byte(i >> 8), 1},
			// Starts out of order, and some equal.
			StartTime: base.Add(time.Duration((i*37)%100) * time.Millisecond), EndTime: base.Add(time.Second),
			Findings: stagetrace.Attrs{{Key: "n", Value: stagetrace.Int64Value(int64(i % 7))}},
		}
		b.Spans = append(b.Spans, sp)
	}
	require.NoError(t, s.Write(context.Background(), b))
	for _, q := range []SpanQuery{
		{Where: query.MustParse("finding.n>2"), Limit: 10},
		{Where: query.MustParse("finding.n>2"), Limit: 10, Offset: 5, Desc: true},
		{Where: query.MustParse("finding.n>=0 and stage=inference"), Limit: 25},
		{Where: query.MustParse("finding.n exists and finding.n<6"), Limit: 50, Desc: true},
	} {
		var got [2][]string
		for i, walk := range []bool{false, true} {
			text, args, err := spansSQL(q, walk, nil)
			require.NoError(t, err)
			if walk {
				plan := explain(t, s, text, args)
				assert.Contains(t, plan, "SCAN s USING INDEX spans_start")
				assert.NotContains(t, plan, "TEMP B-TREE")
			}
			spans, err := s.querySpans(context.Background(), text, args...)
			require.NoError(t, err)
			for _, sp := range spans {
				got[i] = append(got[i], sp.SpanID.String())
			}
		}
		assert.Equal(t, got[0], got[1], "%+v", q)
		assert.Len(t, got[0], q.Limit)
		walk, err := s.walkByStart(context.Background(), q, nil)
		require.NoError(t, err)
		assert.True(t, walk, "so many matches: walk the index")
	}
	walk, err := s.walkByStart(context.Background(), SpanQuery{Where: query.MustParse("finding.n>5"), Limit: 1000}, nil)
	require.NoError(t, err)
	assert.False(t, walk, "few matches for many wanted: collect them")
}

func explain(t *testing.T, s *Store, text string, args []any) string {
	t.Helper()
	rows, err := s.rdb.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+text, args...)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Close())
	return strings.Join(plan, "\n")
}

// TestTopByFindingWalksTheValueIndex checks the plan of a top-N by a
// finding that a filter compares with a number: the value index range in
// the order wanted, with no sort.
func TestTopByFindingWalksTheValueIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "plan.db"))
	require.NoError(t, err)
	defer s.Close()
	for _, desc := range []bool{false, true} {
		q := SpanQuery{Where: query.MustParse("finding.input_tokens>500 and stage=inference"), OrderBy: "finding.input_tokens", Desc: desc, Limit: 10}
		text, args, err := spansSQL(q, false, nil)
		require.NoError(t, err)
		plan := explain(t, s, text, args)
		assert.Contains(t, plan, "SEARCH v USING PRIMARY KEY (source=? AND key_id=? AND type=? AND val>?)")
		assert.NotContains(t, plan, "TEMP B-TREE")
	}
}

// TestLogStaysBoundedUnderSteadyWrites writes batch after batch with no
// pause: the log must not grow with them, as it did when the background
// checkpoint never caught up with the last frame.
func TestLogStaysBoundedUnderSteadyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steady.db")
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	s.walLimit = 256 // frames: 1 MiB
	ctx := context.Background()
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var largest int64
	for i := range 400 {
		var b stagetrace.Batch
		for j := range 200 {
			n := i*200 + j
			b.Spans = append(b.Spans, stagetrace.StageSpan{
				RunID: fmt.Sprintf("r%d", n/8), Name: "s", TraceID: stagetrace.TraceID{byte(n >> 16), byte(n >> 8), byte(n), 1},
				SpanID: stagetrace.SpanID{byte(n >> 16), byte(n >> 8), byte(n), 1}, StartTime: base, EndTime: base.Add(time.Second),
				Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(int64(n * 7919 % 10000))}},
			})
		}
		require.NoError(t, s.Write(ctx, b))
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	// The limit, a checkpoint interval's worth of batches, and room.
	assert.Less(t, largest, int64(32<<20), "largest log: %d bytes", largest)
}

// TestSharedDecoderDecodesAsPlain decodes many columns with one shared
// decoder, as a span tree does, and checks that each decodes as
// decodeAttrs decodes it, still once every column is read: places past
// lastKept, values too long to keep, more values than sharedValues,
// columns larger than a slab, nested maps, every kind, a corrupt column.
func TestSharedDecoderDecodesAsPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := sharedDecoder()
	var cols [][]byte
	var got []stagetrace.Attrs
	for i := range 3 * sharedValues {
		var attrs stagetrace.Attrs
		switch {
		case i%500 == 7:
			attrs = everyKind()
		case i%700 == 9:
			for j := range slabAttrs + 3 {
				attrs = append(attrs, stagetrace.Attr{Key: fmt.Sprintf("big.%d", j), Value: stagetrace.Int64Value(int64(j))})
			}
		default:
			for j := range rng.IntN(2 * lastKept) {
				v := stagetrace.StringValue([]string{"gpt-4o", "gpt-4o-mini", fmt.Sprintf("id-%d", rng.IntN(4*sharedValues)),
					strings.Repeat("x", sharedValueLen+rng.IntN(2))}[rng.IntN(4)])
				if rng.IntN(8) == 0 {
					v = stagetrace.MapValue(stagetrace.Attr{Key: "model", Value: v})
				}
				attrs = append(attrs, stagetrace.Attr{Key: fmt.Sprintf("k%d", (j+rng.IntN(2))%(2*lastKept)), Value: v})
			}
		}
		col := appendAttrs(nil, attrs)
		if i == 1234 {
			col = col[:len(col)-1] // cut short
		}
		a, err := d.decodeAttrs(col)
		_, wantErr := decodeAttrs(col)
		require.Equal(t, wantErr != nil, err != nil, "column %d: %v, %v", i, err, wantErr)
		cols, got = append(cols, col), append(got, a)
	}
	for i, col := range cols {
		want, _ := decodeAttrs(col)
		require.True(t, want.Equal(got[i]), "column %d: %v, got %v", i, want, got[i])
		if len(got[i]) > 0 {
			assert.Equal(t, len(got[i]), cap(got[i]), "column %d: appending must not reach the next span's", i)
		}
	}
	assert.LessOrEqual(t, len(d.values), sharedValues)
}
