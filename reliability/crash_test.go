package reliability

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// The writer process is this test binary run again with these variables.
const (
	// writerEnv, when set, makes the binary a writer: its value is the
	// directory to write in.
	writerEnv = "STAGETRACE_RELIABILITY_WRITER"
	// modeEnv is "pipeline" (spans through the SDK to JSONL and SQLite) or
	// "spill" (batches spilled by delivery).
	modeEnv = "STAGETRACE_RELIABILITY_MODE"
	// roundEnv numbers the writer, so that its records can be told apart.
	roundEnv = "STAGETRACE_RELIABILITY_ROUND"
	// writerLimit ends a writer nobody killed.
	writerLimit = time.Minute
)

// TestHelperWriter is the writer process of the crash tests; run as a
// test, without writerEnv, it does nothing. It writes until killed and
// prints "ack <n>" each time the first n records it wrote are durable.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(writerEnv)
	if dir == "" {
		t.Skip("the writer process of the crash tests; not a test on its own")
	}
	round, err := strconv.Atoi(os.Getenv(roundEnv))
	require.NoError(t, err)
	switch os.Getenv(modeEnv) {
	case "pipeline":
		pipelineWriter(t, dir, round)
	case "spill":
		spillWriter(t, dir, round)
	default:
		t.Fatalf("unknown %s %q", modeEnv, os.Getenv(modeEnv))
	}
}

// pipelineWriter ends spans through the whole pipeline into JSONL and
// SQLite and acknowledges them after each flush.
func pipelineWriter(t *testing.T, dir string, round int) {
	jsonl, err := jsonlsink.New(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	fmt.Printf("torn %d\n", jsonl.TornBytes())
	store, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(jsonl, store))
	require.NoError(t, err)
	// Even rounds write many small batches, so that a kill often lands
	// between two of them; odd rounds write batches of megabytes, so that
	// a kill can land inside the write itself and tear the last line.
	batch, chunk := 64, size(1000, 100)
	if round%2 == 1 {
		batch, chunk = 4096, size(8000, 2000)
	}
	if raceEnabled {
		chunk /= 4
	}
	tp := newProvider(exp, sdktrace.WithMaxExportBatchSize(batch), sdktrace.WithMaxQueueSize(2*batch))
	tracer := tp.Tracer("writer")
	ctx := attributes.ContextWithRun(context.Background(), fmt.Sprintf("round-%d", round))
	for seq, end := 0, time.Now().Add(writerLimit); time.Now().Before(end); {
		for range chunk {
			_, span := tracer.Start(ctx, "step", trace.WithAttributes(spanAttrs...),
				trace.WithAttributes(attribute.Int("seq", seq)))
			span.End()
			seq++
		}
		// The BatchSpanProcessor's flush hands every ended span to the
		// sinks; the exporter's flush syncs them to disk.
		require.NoError(t, tp.ForceFlush(ctx))
		require.NoError(t, exp.ForceFlush(ctx))
		fmt.Printf("ack %d\n", seq)
	}
}

// spillWriter writes batches to delivery in front of a sink that always
// fails, so they are spilled, and acknowledges each batch Write spilled.
func spillWriter(t *testing.T, dir string, round int) {
	d, err := delivery.New(failingSink{}, delivery.WithLogger(quietLogger),
		delivery.OnFull(delivery.Spill), delivery.WithSpillDir(filepath.Join(dir, "spill")),
		delivery.WithQueueSize(1), delivery.WithMaxRetryElapsed(time.Hour), delivery.WithBackoff(time.Second, time.Second))
	require.NoError(t, err)
	for k, end := 0, time.Now().Add(writerLimit); time.Now().Before(end); k++ {
		before := d.Stats().Spilled
		require.NoError(t, d.Write(context.Background(), spillBatch(round, k)))
		if d.Stats().Spilled == before+1 {
			// Spilled by this Write: on disk, safe from a crash of the
			// process.
			fmt.Printf("ack %d\n", k)
		}
		time.Sleep(time.Millisecond)
	}
}

type failingSink struct{}

func (failingSink) Write(context.Context, stagetrace.Batch) error {
	return errors.New("ingest unreachable")
}
func (failingSink) Shutdown(context.Context) error { return nil }

// spillBatch returns batch k of round: 10 spans whose ids say so.
func spillBatch(round, k int) stagetrace.Batch {
	var b stagetrace.Batch
	for j := range 10 {
		var id stagetrace.SpanID
		binary.BigEndian.PutUint16(id[0:2], uint16(round))
		binary.BigEndian.PutUint32(id[2:6], uint32(k))
		binary.BigEndian.PutUint16(id[6:8], uint16(j))
		b.Spans = append(b.Spans, stagetrace.StageSpan{
			RunID: fmt.Sprintf("round-%d", round), Name: "step", SpanID: id, TraceID: stagetrace.TraceID{1},
			StartTime: time.Unix(1_750_000_000, 0), EndTime: time.Unix(1_750_000_001, 0),
			Attrs: stagetrace.Attrs{{Key: "seq", Value: stagetrace.IntValue(k*10 + j)}},
		})
	}
	return b
}

// killedWriter runs a writer until it has acknowledged minAcks times, then
// kills it with SIGKILL after a random moment, and returns the last
// acknowledged count and the torn bytes the writer repaired at start.
func killedWriter(t *testing.T, dir, mode string, round, minAcks int) (lastAck, torn int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), writerEnv+"="+dir, modeEnv+"="+mode, roundEnv+"="+strconv.Itoa(round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	lastAck, acks := -1, 0
	var ackTimes []time.Time
	read := func(line string) {
		if v, ok := strings.CutPrefix(line, "ack "); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			lastAck = n
			acks++
			ackTimes = append(ackTimes, time.Now())
		} else if v, ok := strings.CutPrefix(line, "torn "); ok {
			torn, _ = strconv.Atoi(v)
		}
	}
	timeout := time.After(writerLimit)
	for acks < minAcks {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the writer ended before it was killed")
			read(line)
		case <-timeout:
			t.Fatal("the writer acknowledged too little")
		}
	}
	// Kill it at a random moment of its next write cycle, so that over
	// many rounds kills land in every phase, the writes included.
	cycle := ackTimes[len(ackTimes)-1].Sub(ackTimes[len(ackTimes)-2])
	time.Sleep(rand.N(cycle + 1))
	require.NoError(t, cmd.Process.Kill()) // SIGKILL
	for line := range lines {
		read(line) // acknowledged before the kill
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "the writer died of the kill")
	return lastAck, torn
}

// TestKillDuringWrite kills a writer of JSONL and SQLite with SIGKILL in
// the middle of its writes, 20 times (3 reduced), each time starting the
// next writer on the same files: every line still parses, and every span
// a writer acknowledged after a flush is there, once.
func TestKillDuringWrite(t *testing.T) {
	rounds := size(20, 3)
	dir := t.TempDir()
	acked := make([]int, rounds)
	repairs, tornBytes := 0, 0
	fragment := 0
	for r := range rounds {
		if r == rounds-1 {
			// A kill inside a large write leaves a torn last line; kills
			// rarely land there, so leave one for the last writer too.
			fragment = appendTornLine(t, filepath.Join(dir, "runs.jsonl"))
		}
		var torn int
		acked[r], torn = killedWriter(t, dir, "pipeline", r, 3)
		if r == rounds-1 {
			assert.GreaterOrEqual(t, torn, fragment, "the writer cut the torn line off at start")
		}
		if torn > 0 {
			repairs++
			tornBytes += torn
		}
	}
	// Opening once more repairs what the last writer left.
	jsonl, err := jsonlsink.New(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	if n := jsonl.TornBytes(); n > 0 {
		repairs++
		tornBytes += int(n)
	}
	require.NoError(t, jsonl.Shutdown(context.Background()))

	seen := map[string]map[int64]int{}
	lines := 0
	scanJSONL(t, filepath.Join(dir, "runs.jsonl"), func(rec stagetrace.Record) {
		lines++
		if rec.Span == nil {
			return
		}
		v, ok := rec.Span.Attrs.Get("seq")
		require.True(t, ok)
		if seen[rec.Span.RunID] == nil {
			seen[rec.Span.RunID] = map[int64]int{}
		}
		seen[rec.Span.RunID][v.AsInt64()]++
	})
	store, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	defer store.Close()
	totalAcked, totalWritten := 0, 0
	for r, n := range acked {
		run := fmt.Sprintf("round-%d", r)
		missing, dups := 0, 0
		for seq := range n {
			switch seen[run][int64(seq)] {
			case 0:
				missing++
			case 1:
			default:
				dups++
			}
		}
		assert.Zero(t, missing, "%s: acknowledged spans missing from the JSONL file", run)
		assert.Zero(t, dups, "%s: spans twice in the JSONL file", run)
		stored, err := store.Run(context.Background(), run)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, stored.Spans, n, "%s: acknowledged spans missing from the SQLite store", run)
		totalAcked += n
		totalWritten += len(seen[run])
	}
	figure(t, "%d writers killed with SIGKILL at random moments of their write cycle: %d lines, all parse; %d torn tails repaired (%d bytes, %d of them planted); %d spans acknowledged, 0 lost (JSONL and SQLite); %d spans written past the last acknowledgement also kept",
		rounds, lines, repairs, tornBytes, fragment, totalAcked, totalWritten-totalAcked)
}

// appendTornLine appends the first half of the file's first line, without
// a newline, as a write cut short by a kill leaves it, and returns its
// length.
func appendTornLine(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	line, _, ok := strings.Cut(string(data), "\n")
	require.True(t, ok, "the file has a line to tear")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	n, err := f.WriteString(line[:len(line)/2])
	require.NoError(t, err)
	return n
}

// TestKillDuringSpill kills a process whose sink is down, so that delivery
// spills every batch, 10 times (2 reduced); then a new Sink on the spill
// directory replays every batch a Write spilled, in order, once.
func TestKillDuringSpill(t *testing.T) {
	rounds := size(10, 2)
	dir := t.TempDir()
	acked := make([]int, rounds)
	for r := range rounds {
		acked[r], _ = killedWriter(t, dir, "spill", r, 20)
	}

	mem := memsink.New()
	d, err := delivery.New(mem, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(filepath.Join(dir, "spill")),
		delivery.WithLogger(quietLogger))
	require.NoError(t, err)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, d.ForceFlush(ctx))
	replay := time.Since(start)
	st := d.Stats()
	require.NoError(t, d.Shutdown(context.Background()))

	type key struct{ round, batch int }
	count := map[key]int{}
	var order []key
	for _, s := range mem.Spans() {
		k := key{int(binary.BigEndian.Uint16(s.SpanID[0:2])), int(binary.BigEndian.Uint32(s.SpanID[2:6]))}
		if binary.BigEndian.Uint16(s.SpanID[6:8]) == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	totalAcked := 0
	for r, last := range acked {
		// Batches 0 and 1 of a writer wait in memory, never acknowledged;
		// every later one was acknowledged once spilled.
		for k := 2; k <= last; k++ {
			assert.Equal(t, 10, count[key{r, k}], "round %d batch %d: acknowledged, so replayed whole, once", r, k)
			totalAcked++
		}
	}
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		assert.True(t, a.round < b.round || a.round == b.round && a.batch < b.batch, "replayed in the order written: %v then %v", a, b)
	}
	assert.Zero(t, st.Dropped)
	figure(t, "%d spilling writers killed with SIGKILL: %d acknowledged batches, all replayed once and in order by the next process (%d replayed in %v); %d damaged records skipped",
		rounds, totalAcked, st.Replayed, replay.Round(time.Millisecond), st.Corrupted)
}
