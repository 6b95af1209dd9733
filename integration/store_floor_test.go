//go:build scale

package integration

// What a store that keeps one SQLite row per span can reach at best,
// against the JSON lines path: the budget behind the store's ingest goal.
//
//	go test -tags scale -run '^$' -bench 'StoreFloor' -benchtime 1x -timeout 60m ./integration/
//
// STAGETRACE_SCALE_SPANS sets the number of spans (default 1,000,000); every
// batch is kept in memory (about 3 GB at the default).

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// capturedBatches keeps a copy of every batch the exporter writes, as the
// sinks of the ingest benchmark receive them.
type capturedBatches struct {
	mu      sync.Mutex
	batches []stagetrace.Batch
}

func (c *capturedBatches) Write(_ context.Context, b stagetrace.Batch) error {
	c.mu.Lock()
	c.batches = append(c.batches, b.Clone())
	c.mu.Unlock()
	return nil
}
func (c *capturedBatches) ForceFlush(context.Context) error { return nil }
func (c *capturedBatches) Shutdown(context.Context) error   { return nil }

// rowStore is the least a store of one row per span does: each span's
// record (its JSON line) in one row of a rowid table, a batch per
// transaction, one multi-row INSERT per batch, with the store's
// durability (WAL, synchronous NORMAL). With indexed, the row also has the
// columns of the store's three span indexes, and the indexes.
type rowStore struct {
	db      *sql.DB
	indexed bool
	enc     stagetrace.Encoder
	buf     []byte
	args    []any
	traces  map[stagetrace.TraceID]int64 // the store's trace numbers, given in order of arrival
}

func openRowStore(tb testing.TB, path string, indexed bool) *rowStore {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16384)")
	require.NoError(tb, err)
	db.SetMaxOpenConns(1)
	schema := `CREATE TABLE spans (id INTEGER PRIMARY KEY, record BLOB NOT NULL)`
	if indexed {
		schema = `CREATE TABLE spans (id INTEGER PRIMARY KEY, tno INTEGER NOT NULL, span_id BLOB NOT NULL,
	parent_span_id BLOB NOT NULL, run_id TEXT NOT NULL, start_ns INTEGER NOT NULL, record BLOB NOT NULL);
CREATE UNIQUE INDEX spans_trace ON spans (tno, span_id, parent_span_id);
CREATE INDEX spans_run_start ON spans (run_id, start_ns);
CREATE INDEX spans_start ON spans (start_ns);`
	}
	_, err = db.Exec(schema)
	require.NoError(tb, err)
	return &rowStore{db: db, indexed: indexed, traces: map[stagetrace.TraceID]int64{}}
}

func (r *rowStore) Write(ctx context.Context, b stagetrace.Batch) error {
	cols, width := "(id, record)", 2
	if r.indexed {
		cols, width = "(id, tno, span_id, parent_span_id, run_id, start_ns, record)", 7
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO spans " + cols + " VALUES ")
	row := "(NULL" + strings.Repeat(", ?", width-1) + ")"
	r.args = r.args[:0]
	r.buf = r.buf[:0]
	// One buffer for every record of the batch, sliced after: appending
	// may move it.
	ends := make([]int, len(b.Spans))
	for i := range b.Spans {
		r.buf = r.enc.AppendSpan(r.buf, &b.Spans[i])
		ends[i] = len(r.buf)
	}
	start := 0
	for i := range b.Spans {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
		s := &b.Spans[i]
		if r.indexed {
			tno, ok := r.traces[s.TraceID]
			if !ok {
				tno = int64(len(r.traces))
				r.traces[s.TraceID] = tno
			}
			r.args = append(r.args, tno, s.SpanID[:], s.ParentSpanID[:], s.RunID, s.StartTime.UnixNano())
		}
		r.args = append(r.args, r.buf[start:ends[i]])
		start = ends[i]
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, sb.String(), r.args...); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (r *rowStore) ForceFlush(context.Context) error { return nil }
func (r *rowStore) Shutdown(context.Context) error   { return r.db.Close() }

// BenchmarkStoreFloor measures, per span, the pipeline alone (a sink that
// discards), then the same batches written in turn, batch by batch in a
// random order, to the JSON lines sink, the store, and the two row stores
// above. It reports each one's CPU per span and what the end-to-end ratio
// store/JSONL would be for a store costing that: (pipeline + JSONL) /
// (pipeline + it). Run it with -benchtime 1x.
func BenchmarkStoreFloor(b *testing.B) {
	n := scaleSpans(b)
	for b.Loop() {
		pipe := ingest(b, n, sinktest.Discard{}, func() int64 { return 0 })
		var got capturedBatches
		ingest(b, n, &got, func() int64 { return 0 })

		dir := b.TempDir()
		j, err := jsonlsink.New(filepath.Join(dir, "runs.jsonl"))
		require.NoError(b, err)
		s, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
		require.NoError(b, err)
		sinks := []struct {
			name string
			sink stagetrace.Sink
			cpu  time.Duration
		}{
			{name: "jsonl", sink: j},
			{name: "store", sink: s},
			{name: "rows", sink: openRowStore(b, filepath.Join(dir, "rows.db"), false)},
			{name: "indexed-rows", sink: openRowStore(b, filepath.Join(dir, "indexed.db"), true)},
		}
		ctx := context.Background()
		order := make([]int, len(sinks))
		for i := range order {
			order[i] = i
		}
		for _, batch := range got.batches {
			rand.Shuffle(len(order), func(a, c int) { order[a], order[c] = order[c], order[a] })
			for _, k := range order {
				cpu0 := processCPU()
				require.NoError(b, sinks[k].sink.Write(ctx, batch))
				sinks[k].cpu += processCPU() - cpu0
			}
		}
		for k := range sinks {
			cpu0 := processCPU()
			require.NoError(b, sinks[k].sink.Shutdown(ctx))
			sinks[k].cpu += processCPU() - cpu0
		}
		perSpan := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) / 1e3 }
		pipeline := perSpan(pipe.cpu)
		jsonl := perSpan(sinks[0].cpu)
		b.ReportMetric(pipeline, "pipeline-µs/span")
		report := []string{fmt.Sprintf("%d spans, CPU per span: pipeline with a discarding sink %.1f µs", n, pipeline)}
		for _, sk := range sinks {
			us := perSpan(sk.cpu)
			ratio := (pipeline + jsonl) / (pipeline + us)
			b.ReportMetric(us, sk.name+"-µs/span")
			b.ReportMetric(ratio, sk.name+"-e2e/jsonl")
			report = append(report, fmt.Sprintf("%s %.1f µs (end to end at best %.3f× the JSON lines path)", sk.name, us, ratio))
		}
		b.Log(strings.Join(report, "; "))
	}
}
