package sqlitesink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/syncbuf"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// writeRuns writes runs runs of one turn each, named prefix-N, in batches
// of one turn, with random ids.
func writeRuns(ctx context.Context, s *sqlitesink.Store, tmpl stagetrace.Batch, prefix string, runs int, seed uint64) error {
	g := &synth{tmpl: tmpl, start: base, rng: rand.New(rand.NewPCG(seed, seed))}
	for i := range runs {
		b := g.batch(1)
		for j := range b.Spans {
			b.Spans[j].RunID = fmt.Sprintf("%s-%d", prefix, i)
		}
		for j := range b.Events {
			b.Events[j].RunID = fmt.Sprintf("%s-%d", prefix, i)
		}
		if err := s.Write(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func turnTemplate(t testing.TB) stagetrace.Batch {
	r := newRecorder(t)
	r.turn("template", base, 812, 0.0042)
	return stagetrace.Batch{Spans: r.mem.Spans(), Events: r.mem.Events()}
}

func TestReadersWhileWriting(t *testing.T) {
	s, path := openStore(t)
	tmpl := turnTemplate(t)
	ctx := context.Background()
	const runs = 40
	done := make(chan error, 1)
	go func() { done <- writeRuns(ctx, s, tmpl, "w", runs, 1) }()

	// Queries through the writing store and through a read-only store
	// of the same file, while the writes go on.
	ro, err := sqlitesink.OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for _, st := range []*sqlitesink.Store{s, ro} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				rs, err := st.Runs(ctx, sqlitesink.RunFilter{})
				if err != nil {
					errs <- err
					return
				}
				if len(rs) < last {
					errs <- fmt.Errorf("runs went from %d to %d", last, len(rs))
					return
				}
				last = len(rs)
				for _, r := range rs {
					// A run is written in one transaction: never seen half.
					if r.Spans != spansPerTurn {
						errs <- fmt.Errorf("run %s has %d spans", r.ID, r.Spans)
						return
					}
				}
				if _, err := st.Spans(ctx, sqlitesink.SpanQuery{Where: query.MustParse("finding.input_tokens>100"), Limit: 10}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	require.NoError(t, <-done)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, runIDs(t, ro), runs)
}

func TestTwoStoresOnOneFile(t *testing.T) {
	s1, path := openStore(t, sqlitesink.WithBusyTimeout(30*time.Second))
	s2, err := sqlitesink.Open(path, sqlitesink.WithBusyTimeout(30*time.Second))
	require.NoError(t, err)
	defer s2.Close()
	tmpl := turnTemplate(t)
	ctx := context.Background()
	const runs = 25
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*sqlitesink.Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = writeRuns(ctx, s, tmpl, fmt.Sprintf("s%d", i), runs, uint64(i+10))
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	checkRuns(t, s1, map[string]int{"s0": runs, "s1": runs})
}

// checkRuns checks that the store holds, whole, the runs of each prefix.
func checkRuns(t *testing.T, s *sqlitesink.Store, want map[string]int) {
	t.Helper()
	runs, err := s.Runs(context.Background(), sqlitesink.RunFilter{})
	require.NoError(t, err)
	got := map[string]int{}
	total := 0
	for _, r := range runs {
		var prefix string
		var n int
		_, err := fmt.Sscanf(r.ID, "%2s-%d", &prefix, &n)
		require.NoError(t, err, r.ID)
		got[prefix]++
		assert.Equal(t, spansPerTurn, r.Spans, r.ID)
		assert.Equal(t, int64(812), r.InputTokens, r.ID)
		total += r.Spans
	}
	assert.Equal(t, want, got)
	spans, err := s.Spans(context.Background(), sqlitesink.SpanQuery{})
	require.NoError(t, err)
	assert.Len(t, spans, total)
	checkIntegrity(t, s.Path())
}

// checkIntegrity asserts that SQLite finds the file at path sound.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	var integrity string
	db, err := openRaw(path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity))
	assert.Equal(t, "ok", integrity)
}

const childEnv = "STAGETRACE_SQLITESINK_CHILD"

// childWriter is the second process of TestTwoProcessesWriteOneFile.
func childWriter(path string) int {
	s, err := sqlitesink.Open(path, sqlitesink.WithBusyTimeout(60*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	tmpl := turnTemplate(&testing.B{})
	if err := writeRuns(context.Background(), s, tmpl, "pc", 25, 99); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func TestTwoProcessesWriteOneFile(t *testing.T) {
	s, path := openStore(t, sqlitesink.WithBusyTimeout(60*time.Second))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	err := writeRuns(context.Background(), s, turnTemplate(t), "pp", 25, 7)
	waitErr := cmd.Wait()
	require.NoError(t, err)
	require.NoError(t, waitErr, "child output: %s", out.String())
	checkRuns(t, s, map[string]int{"pp": 25, "pc": 25})
}

// TestBatcherThroughExporter records spans from many goroutines through
// a BatchSpanProcessor: the exporter calls Write concurrently, and its
// Shutdown shuts the store down.
func TestBatcherThroughExporter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := sqlitesink.Open(path)
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(s))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(processor.New()),
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(16), sdktrace.WithBatchTimeout(time.Millisecond)),
	)
	const workers, turns = 4, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &recorder{tp: tp}
			for i := range turns {
				rec.turn(fmt.Sprintf("w%d-%d", w, i), base.Add(time.Duration(i)*time.Minute), 100+i, 0.001)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, tp.Shutdown(context.Background()))
	assert.ErrorIs(t, s.Write(context.Background(), stagetrace.Batch{}), stagetrace.ErrClosed, "the exporter shut the store down")

	ro, err := sqlitesink.OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	runs, err := ro.Runs(context.Background(), sqlitesink.RunFilter{})
	require.NoError(t, err)
	require.Len(t, runs, workers*turns)
	for _, r := range runs {
		assert.Equal(t, spansPerTurn, r.Spans, r.ID)
		assert.Equal(t, 3, r.Stages, r.ID)
		assert.Equal(t, 1, r.Errors, r.ID)
	}
}

func TestConcurrentWritesToOneStore(t *testing.T) {
	s, _ := openStore(t)
	tmpl := turnTemplate(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = writeRuns(context.Background(), s, tmpl, fmt.Sprintf("g%d", i), 10, uint64(100+i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	checkRuns(t, s, map[string]int{"g0": 10, "g1": 10, "g2": 10, "g3": 10})
}
