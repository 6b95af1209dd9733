package sqlitesink

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// valuesOf is a rowCollector keeping copies of the values it is given.
type valuesOf struct {
	rows [][]driver.Value
	fail error
}

func (c *valuesOf) row(v []driver.Value) error {
	var row []driver.Value
	for _, x := range v {
		switch x := x.(type) {
		case []byte:
			row = append(row, bytes.Clone(x))
		case string:
			row = append(row, strings.Clone(x))
		default:
			row = append(row, x)
		}
	}
	c.rows = append(c.rows, row)
	return c.fail
}

func TestCollect(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, s TEXT, b BLOB, f REAL);
INSERT INTO t VALUES (-5, 'text', x'000102', 1.5), (9223372036854775807, '', x'', NULL)`)
	require.NoError(t, err)

	var c valuesOf
	require.NoError(t, collect(ctx, db, &c, `SELECT `+collectFunc+`(?, n, s, b, f) FROM t WHERE n < ?`, int64(math.MaxInt64)))
	assert.Equal(t, [][]driver.Value{{int64(-5), "text", []byte{0, 1, 2}, 1.5}}, c.rows)

	// Collectors running at once each get their own rows: the inner one
	// runs while the outer's handle is taken.
	var outer, inner valuesOf
	require.NoError(t, collect(ctx, db, &outer, `SELECT `+collectFunc+`(?, n) FROM t WHERE n > 0`))
	held := &collection{c: &outer} // a handle in use
	collectors.Lock()
	collectors.m[1] = held
	collectors.Unlock()
	require.NoError(t, collect(ctx, db, &inner, `SELECT `+collectFunc+`(?, s) FROM t`))
	collectors.Lock()
	assert.Same(t, held, collectors.m[1], "the handle in use is neither taken nor given back")
	delete(collectors.m, 1)
	collectors.Unlock()
	assert.Equal(t, [][]driver.Value{{int64(math.MaxInt64)}}, outer.rows)
	assert.Equal(t, [][]driver.Value{{"text"}, {""}}, inner.rows)

	// No rows: nothing collected, and no error.
	var none valuesOf
	require.NoError(t, collect(ctx, db, &none, `SELECT `+collectFunc+`(?, n) FROM t WHERE n = 0`))
	assert.Empty(t, none.rows)

	// A collector's error is the query's, as it was: SQLite passes it on
	// as text only.
	refused := errors.New("refused")
	failing := valuesOf{fail: refused}
	err = collect(ctx, db, &failing, `SELECT `+collectFunc+`(?, n) FROM t`)
	assert.ErrorIs(t, err, refused)
	assert.Len(t, failing.rows, 1, "the query stops at the first error")

	// Called with no handle at all: an error, not a panic.
	assert.ErrorContains(t, db.QueryRowContext(ctx, `SELECT `+collectFunc+`() FROM t`).Scan(new(int64)), "no handle")

	// A handle that names no collector.
	var n int64
	assert.Error(t, db.QueryRowContext(ctx, `SELECT `+collectFunc+`(1000, n) FROM t`).Scan(&n))

	collectors.Lock()
	assert.Empty(t, collectors.m, "every handle given back")
	collectors.Unlock()
}

func TestTreeRowsTypes(t *testing.T) {
	row := func() []driver.Value {
		return []driver.Value{int64(1), []byte{7: 1}, []byte{}, "run", "stage", "name", int64(10), int64(20),
			int64(2), "message", int64(1), "scope", nil, nil, appendAttrs(nil, stagetrace.Attrs{{Key: "k", Value: stagetrace.Int64Value(3)}})}
	}
	tr := newTreeRows(stagetrace.TraceID{1})
	require.NoError(t, tr.row(row()))
	require.Equal(t, 1, tr.n)
	sp := tr.at(0).Span
	assert.Equal(t, stagetrace.SpanID{7: 1}, sp.SpanID)
	assert.False(t, sp.ParentSpanID.IsValid())
	assert.Equal(t, []string{"run", "stage", "name", "message", "scope"}, []string{sp.RunID, sp.Stage, sp.Name, sp.StatusMessage, sp.Scope})
	assert.Equal(t, stagetrace.StatusCode(2), sp.Status)
	assert.Equal(t, stagetrace.SpanKind(1), sp.Kind)
	assert.Equal(t, int64(20), sp.EndTime.UnixNano())
	assert.False(t, tr.chunks[0].res[0].Valid)
	assert.Nil(t, sp.Attrs)
	assert.Equal(t, stagetrace.Attrs{{Key: "k", Value: stagetrace.Int64Value(3)}}, sp.Findings)

	for i, bad := range []driver.Value{"1", int64(1), int64(1), int64(1), 1.5, int64(5), "10", "20", "2", int64(0), "1", int64(0), "7", int64(1), "x"} {
		v := row()
		v[i] = bad
		if i == 13 || i == 14 {
			v[i] = []byte{9} // a corrupt attribute column
		}
		assert.Error(t, newTreeRows(stagetrace.TraceID{1}).row(v), "value %d", i)
	}
	assert.Error(t, tr.row(row()[:14]), "too few values")

	// A refused row leaves no span behind: the next one takes its place.
	fresh := newTreeRows(stagetrace.TraceID{1})
	bad := row()
	bad[14] = []byte{9}
	require.ErrorIs(t, fresh.row(bad), errCorrupt)
	assert.Zero(t, fresh.n)
	assert.Empty(t, fresh.chunks)
	require.NoError(t, fresh.row(row()))
	require.Equal(t, 1, fresh.n)
	assert.Equal(t, "run", fresh.at(0).Span.RunID)

	// With keep, other spans are passed over.
	picky := newTreeRows(stagetrace.TraceID{1})
	picky.keep = map[stagetrace.SpanID]struct{}{{7: 2}: {}}
	require.NoError(t, picky.row(row()))
	assert.Zero(t, picky.n, "span 1 is not kept")
	other := row()
	other[1] = []byte{7: 2}
	require.NoError(t, picky.row(other))
	require.Equal(t, 1, picky.n)
	assert.Equal(t, stagetrace.SpanID{7: 2}, picky.at(0).Span.SpanID)
}

// TestSpanTreeCorrupt: a corrupt attribute column fails a span tree with
// errCorrupt whichever way the tree is read.
func TestSpanTreeCorrupt(t *testing.T) {
	path := t.TempDir() + "/runs.db"
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	trace := stagetrace.TraceID{3}
	root, child := stagetrace.SpanID{1}, stagetrace.SpanID{2}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	attrs := stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue("v")}}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{
		{RunID: "r", TraceID: trace, SpanID: root, Name: "root", StartTime: at, EndTime: at, Attrs: attrs},
		{RunID: "r", TraceID: trace, SpanID: child, ParentSpanID: root, Name: "child", StartTime: at, EndTime: at, Attrs: attrs},
	}}))
	_, err = s.wdb.ExecContext(ctx, `UPDATE spans SET attrs = x'09'`)
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		ref      SpanRef
		maxDepth int
	}{
		{"root, in one pass", SpanRef{TraceID: trace, SpanID: root}, 0},
		{"root to a depth, by id", SpanRef{TraceID: trace, SpanID: root}, 1},
		{"child, by id", SpanRef{TraceID: trace, SpanID: child}, 0},
	} {
		_, err := s.SpanTree(ctx, tc.ref, tc.maxDepth, nil)
		assert.ErrorIs(t, err, errCorrupt, tc.name)
	}
}

func TestPackedPartials(t *testing.T) {
	var a, b query.Partial
	a.Add(1.5)
	b.Add(-2)
	b.Add(7)
	var p packedPartials
	for i, part := range []*query.Partial{&a, &b} {
		enc, err := part.AppendBinary(nil)
		require.NoError(t, err)
		require.NoError(t, p.Step(nil, []driver.Value{int64(i * 60e9), enc}))
	}
	blob, err := p.WindowValue(nil)
	require.NoError(t, err)
	var got []float64
	require.NoError(t, unpackPartials(blob.([]byte), func(ns int64, p *query.Partial) {
		got = append(got, float64(ns/60e9), float64(p.Count), p.Value(query.AggSum))
	}))
	assert.Equal(t, []float64{0, 1, 1.5, 1, 2, 5}, got)
	b2 := blob.([]byte)
	assert.Error(t, unpackPartials(b2[:len(b2)-1], func(int64, *query.Partial) {}))
	assert.Error(t, unpackPartials(b2[:5], func(int64, *query.Partial) {}))

	merged, err := mergePartialsSQL(nil, []driver.Value{mustEncode(t, &a), mustEncode(t, &b)})
	require.NoError(t, err)
	m, err := query.UnmarshalPartial(merged.([]byte))
	require.NoError(t, err)
	assert.Equal(t, 3, m.Count)
	assert.Equal(t, 6.5, m.Value(query.AggSum))
	assert.Equal(t, -2.0, m.Value(query.AggMin))
	_, err = mergePartialsSQL(nil, []driver.Value{[]byte{1}, mustEncode(t, &b)})
	assert.Error(t, err)
}

func mustEncode(t *testing.T, p *query.Partial) []byte {
	t.Helper()
	b, err := p.AppendBinary(nil)
	require.NoError(t, err)
	return b
}

// TestByStart orders spans by start then row id, as a sort of startKey
// does: with ties, unordered row ids, and starts too far apart to pack.
func TestByStart(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		n := rng.IntN(3 * treeChunkLen)
		tr := &treeRows{}
		var keys []startKey
		for i := range n {
			c, k := tr.add()
			c.start[k] = 1_700_000_000_000_000_000 + int64(rng.IntN(50))*1000
			if round%3 == 0 {
				switch rng.IntN(40) { // starts too far from the others to pack
				case 0:
					c.start[k] = query.ZeroTimeNS
				case 1:
					c.start[k] = math.MaxInt64
				}
			}
			c.row[k] = rng.Int64N(1 << 40)
			keys = append(keys, startKey{c.start[k], c.row[k], int32(i)})
		}
		slices.SortFunc(keys, startKey.compare)
		want := make([]int32, n)
		for i := range keys {
			want[i] = keys[i].i
		}
		require.Equal(t, want, tr.byStart(), "round %d", round)
	}
}
