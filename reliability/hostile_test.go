package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/filelock"
	"github.com/stagetrace/stagetrace/internal/hostiletest"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
	"github.com/stagetrace/stagetrace/usage"
)

// Hostile input from the wire: what any OTLP client or rules file author
// can send must not break the stores for everyone else.

// hostileSpan is span i of a run, carrying a value nested depth levels.
func hostileSpan(i, depth int) stagetrace.StageSpan {
	start := time.Unix(1_700_000_000, 0).UTC().Add(time.Duration(i) * time.Millisecond)
	return stagetrace.StageSpan{
		RunID: "hostile", Name: fmt.Sprintf("span-%d", i),
		TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{byte(i >> 8), byte(i), 1},
		StartTime: start, EndTime: start.Add(time.Millisecond),
		Attrs: stagetrace.Attrs{{Key: "payload", Value: hostiletest.Nested(depth)}},
	}
}

// TestHostileDeepValues writes values nested from just past
// stagetrace.MaxDepth to thousands of levels into both stores, between
// plain spans, and reads every span back from each.
func TestHostileDeepValues(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	js, err := jsonlsink.New(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	db, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	defer db.Close()

	depths := []int{0, stagetrace.MaxDepth, stagetrace.MaxDepth + 1, 1_000, size(20_000, 5_000)}
	var b stagetrace.Batch
	for i := range size(500, 50) {
		b.Spans = append(b.Spans, hostileSpan(i, depths[i%len(depths)]))
	}
	require.NoError(t, js.Write(ctx, b))
	require.NoError(t, js.Shutdown(ctx))
	require.NoError(t, db.Write(ctx, b))

	read := 0
	scanJSONL(t, js.Path(), func(r stagetrace.Record) {
		read++
		v, _ := r.Span.Attrs.Get("payload")
		assert.LessOrEqual(t, stagetrace.Depth(v), stagetrace.MaxDepth)
	})
	assert.Equal(t, len(b.Spans), read, "every JSONL line reads")
	spans, err := db.Spans(ctx, sqlitesink.SpanQuery{})
	require.NoError(t, err, "the store's listing works")
	assert.Len(t, spans, len(b.Spans))
	figure(t, "%d spans with values nested up to %d levels: %d read back from JSONL, %d from SQLite",
		len(b.Spans), depths[len(depths)-1], read, len(spans))
}

// TestHostileAliasBomb loads rules files that stand, through YAML aliases,
// for millions of conditions: both loaders refuse them at once, naming the
// file, within a small, fixed amount of time and memory.
func TestHostileAliasBomb(t *testing.T) {
	for _, aliases := range size([]int{5_000, 20_000}, []int{1_000}) {
		bomb := hostiletest.AliasBomb(2_000, aliases)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := rules.Load(bytes.NewReader(bomb), "bomb.yaml")
		_, alertErr := alert.Read(bytes.NewReader(bomb), "bomb.yaml")
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		require.ErrorContains(t, err, "bomb.yaml: yaml aliases expand")
		require.ErrorContains(t, alertErr, "bomb.yaml: yaml aliases expand")
		allocated := after.TotalAlloc - before.TotalAlloc
		assert.Less(t, elapsed, 5*time.Second)
		assert.Less(t, allocated, uint64(256<<20))
		figure(t, "%d KB file of 2,000 conditions behind %d aliases: refused by both loaders in %v, %d MB allocated",
			len(bomb)>>10, aliases, elapsed.Round(time.Millisecond), allocated>>20)
	}
}

// TestHostileConcurrentJSONLWriters has many writers open one JSONL file
// at once, as processes sharing a path by mistake do: one holds it at a
// time, the others are refused (ErrInUse) and try again, and every span
// acknowledged by any of them is in the file.
func TestHostileConcurrentJSONLWriters(t *testing.T) {
	if !filelock.Supported {
		t.Skip("no flock on this system: nothing stops a second writer")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	writers, rounds, batches := size(40, 8), size(20, 5), size(4, 2)
	const perBatch = 64
	var acked, refused atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; {
				s, err := jsonlsink.New(path)
				if errors.Is(err, jsonlsink.ErrInUse) {
					refused.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				for range batches {
					var b stagetrace.Batch
					for i := range perBatch {
						b.Spans = append(b.Spans, hostileSpan(w*perBatch+i, 0))
					}
					if assert.NoError(t, s.Write(ctx, b)) {
						acked.Add(perBatch)
					}
				}
				assert.NoError(t, s.Shutdown(ctx))
				r++
			}
		}()
	}
	wg.Wait()
	lines := 0
	scanJSONL(t, path, func(stagetrace.Record) { lines++ })
	assert.Equal(t, acked.Load(), int64(lines), "every acknowledged span is in the file")
	figure(t, "%d writers, %d opens each: %d spans acknowledged, %d in the file, %d opens refused while another held the file",
		writers, rounds, acked.Load(), lines, refused.Load())
}

// TestHostileTokenOverflow sends spans claiming the largest token count,
// in separate batches and in one: every store saturates alike, and a run
// with absurd counts does not hide the others.
func TestHostileTokenOverflow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	jsonlPath := filepath.Join(dir, "runs.jsonl")
	file, err := jsonlsink.New(jsonlPath)
	require.NoError(t, err)
	span := func(run string, i int, tokens int64) stagetrace.StageSpan {
		s := hostileSpan(i, 1)
		s.RunID = run
		s.Findings = stagetrace.Attrs{{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(tokens)}}
		return s
	}
	batches := []stagetrace.Batch{
		{Spans: []stagetrace.StageSpan{span("apart", 1, math.MaxInt64)}},
		{Spans: []stagetrace.StageSpan{span("apart", 2, math.MaxInt64)}},
		{Spans: []stagetrace.StageSpan{span("together", 3, math.MaxInt64), span("together", 4, math.MaxInt64)}},
		{Spans: []stagetrace.StageSpan{span("fine", 5, 12)}},
	}
	for _, b := range batches {
		require.NoError(t, store.Write(ctx, b))
		require.NoError(t, file.Write(ctx, b))
	}
	require.NoError(t, file.Shutdown(ctx))
	stored, err := store.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	require.NoError(t, store.Shutdown(ctx))

	f, err := os.Open(jsonlPath)
	require.NoError(t, err)
	defer f.Close()
	recs, err := memquery.ReadJSONL(f)
	require.NoError(t, err)
	fromFile, err := recs.Runs(ctx, query.RunFilter{})
	require.NoError(t, err)

	require.Len(t, stored, 3)
	assert.Equal(t, fromFile, stored, "the store and the JSONL file agree")
	for _, r := range stored {
		want := int64(usage.MaxTokens)
		if r.ID == "fine" {
			want = 12
		}
		assert.Equal(t, want, r.InputTokens, "run %s", r.ID)
	}
}

// TestHostileTornJSONL tears a JSONL file mid-line, as a crash does, and
// puts a bad line in its middle: every complete record still reads.
func TestHostileTornJSONL(t *testing.T) {
	var enc stagetrace.Encoder
	var data []byte
	n := size(2000, 50)
	for i := range n {
		s := hostileSpan(i, 1)
		data = enc.AppendSpan(data, &s)
		if i == n/2 {
			data = append(data, "\x00\xff not json\n"...)
		}
	}
	last := enc.AppendSpan(nil, new(stagetrace.StageSpan))
	data = append(data, last[:len(last)/2]...)
	recs, err := memquery.ReadJSONL(bytes.NewReader(data))
	require.NoError(t, err)
	spans, err := recs.Spans(context.Background(), query.SpanQuery{})
	require.NoError(t, err)
	assert.Len(t, spans, n)
	sk := recs.Skipped()
	assert.Equal(t, 2, sk.Lines)
	assert.True(t, sk.Torn)
}

// TestHostileTerminalEscapes prints a run whose every string carries
// terminal control sequences: none reaches the output.
func TestHostileTerminalEscapes(t *testing.T) {
	const evil = "\x1b]0;owned\x07\x1b[2J\r\n\x9b31m\u202e\x00"
	s := hostileSpan(1, 1)
	s.RunID, s.Stage, s.Name, s.StatusMessage = "run"+evil, "stage"+evil, "span"+evil, "msg"+evil
	s.Findings = stagetrace.Attrs{{Key: "k" + evil, Value: stagetrace.StringValue("v" + evil)}}
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{s}}
	var out bytes.Buffer
	require.NoError(t, summary.WriteTree(&out, usage.Runs(b.Spans, nil)[0], b, summary.TreeOptions{}))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 4, "header, blank, table header, one span: no forged line")
	for _, r := range out.String() {
		assert.False(t, r != '\n' && (r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x202e), "%U reaches the terminal", r)
	}
}

// TestHostileLongFilter sends filters of every length up to thousands of
// conditions: the parser refuses those past query.MaxConditions with a
// position, and the SQLite store answers every one it accepts, for spans
// and for runs (whose SQL nests deeper).
func TestHostileLongFilter(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitesink.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{hostileSpan(1, 1)}}))
	for _, cond := range []string{"attr.payload exists", "name~span", "elapsed_ms>=0", "finding.x!=1 and stage=s"} {
		for _, n := range []int{1, query.MaxConditions / 2, query.MaxConditions, query.MaxConditions + 1, 998, 5_000} {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = cond
			}
			text := strings.Join(parts, " and ")
			filters, err := query.Parse(text)
			var se *query.SyntaxError
			if len(strings.Split(text, " and ")) > query.MaxConditions {
				require.ErrorAs(t, err, &se, "%d × %s", n, cond)
				assert.Contains(t, se.Msg, "at most")
				continue
			}
			require.NoError(t, err)
			_, err = db.Spans(ctx, query.SpanQuery{Where: filters})
			assert.NoError(t, err, "spans, %d × %s", n, cond)
			_, err = db.Runs(ctx, query.RunFilter{Where: filters})
			assert.NoError(t, err, "runs, %d × %s", n, cond)
		}
	}
	figure(t, "filters of up to %d conditions answered by SQLite; longer ones refused by the parser with a position", query.MaxConditions)
}
