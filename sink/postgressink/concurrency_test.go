package postgressink_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/usage"
)

// childEnv holds the database URL of the writer process that
// TestTwoProcessesOneRollup starts.
const childEnv = "STAGETRACE_POSTGRESSINK_CHILD"

var base = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// sharedRuns returns the spans of runs whose spans arrive through several
// writers: every span has tokens and a cost (one run's costs in two
// currencies, one run's tokens near MaxInt64, so the sum saturates), and
// stages.
func sharedRuns(runs, spansPerRun int) []stagetrace.StageSpan {
	rng := rand.New(rand.NewPCG(7, 8))
	var out []stagetrace.StageSpan
	for r := range runs {
		for i := range spansPerRun {
			start := base.Add(time.Duration(r)*time.Minute + time.Duration(rng.IntN(50000))*time.Millisecond)
			sp := stagetrace.StageSpan{
				RunID: fmt.Sprintf("shared-%02d", r), Stage: []string{"retrieval", "inference", "judge"}[rng.IntN(3)],
				Name: "chat", StartTime: start, EndTime: start.Add(time.Duration(1+rng.IntN(900)) * time.Millisecond),
				Status: stagetrace.StatusCode(rng.IntN(3) / 2 * 2),
			}
			sp.TraceID[0], sp.TraceID[1] = byte(r), 1
			sp.SpanID[0], sp.SpanID[1], sp.SpanID[7] = byte(r), byte(i>>8), byte(i)
			tokens := int64(1 + rng.IntN(1000))
			if r == 1 {
				tokens = math.MaxInt64 / 3
			}
			currency := "USD"
			if r == 2 && i == spansPerRun-1 {
				currency = "EUR"
			}
			sp.Findings = stagetrace.Attrs{
				{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(tokens)},
				{Key: attributes.FindingOutputTokens, Value: stagetrace.Int64Value(int64(rng.IntN(100)))},
				{Key: attributes.FindingCost, Value: stagetrace.Float64Value(float64(rng.IntN(1000)) / 1e4)},
				{Key: attributes.FindingCostCurrency, Value: stagetrace.StringValue(currency)},
			}
			out = append(out, sp)
		}
	}
	return out
}

// writerPart returns the batches writer part of n writes: spans i with
// i%n == part, and a tenth of the others too (a redelivery through
// another collector), in small batches, shuffled.
func writerPart(spans []stagetrace.StageSpan, part, n int) []stagetrace.Batch {
	rng := rand.New(rand.NewPCG(uint64(part), 9))
	var mine []stagetrace.StageSpan
	for i := range spans {
		if i%n == part || rng.IntN(10) == 0 {
			mine = append(mine, spans[i])
		}
	}
	rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
	var out []stagetrace.Batch
	for len(mine) > 0 {
		k := min(len(mine), 1+rng.IntN(20))
		out = append(out, stagetrace.Batch{Spans: mine[:k]})
		mine = mine[k:]
	}
	return out
}

const (
	sharedRunCount = 12
	sharedSpans    = 60
	writers        = 3 // writer 0 is the child process
)

func writePart(url string, part int) error {
	ctx := context.Background()
	s, err := postgressink.Open(ctx, url, postgressink.WithMaxConns(4))
	if err != nil {
		return err
	}
	for _, b := range writerPart(sharedRuns(sharedRunCount, sharedSpans), part, writers) {
		if err := s.Write(ctx, b); err != nil {
			return fmt.Errorf("writer %d: %w", part, err)
		}
	}
	return s.Close()
}

func childWriter(url string) int {
	if err := writePart(url, 0); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// TestTwoProcessesOneRollup writes the spans of the same runs from a
// second process and two more stores (connection pools) of this one at
// once, some spans through two of them: each run has one rollup, the one
// package usage computes from its spans, each counted once.
func TestTwoProcessesOneRollup(t *testing.T) {
	url := pgtest.URL(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+url)
	out, err := os.CreateTemp(t.TempDir(), "child")
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for part := 1; part < writers; part++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[part] = writePart(url, part)
		}()
	}
	wg.Wait()
	waitErr := cmd.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	log, _ := os.ReadFile(out.Name())
	require.NoError(t, waitErr, "child output: %s", log)

	spans := sharedRuns(sharedRunCount, sharedSpans)
	want := usage.Runs(spans, nil)
	s := openStore(t, url)
	got, err := s.Runs(context.Background(), query.RunFilter{})
	require.NoError(t, err)
	require.Len(t, got, sharedRunCount)
	assert.Equal(t, want, got)
	var total int
	for _, r := range got {
		total += r.Spans
	}
	assert.Equal(t, len(spans), total, "every span counted once")
	assert.Equal(t, int64(usage.MaxTokens), got[len(got)-2].InputTokens, "a saturated sum (run shared-01)")
	assert.True(t, got[len(got)-3].CostUnknown, "costs in two currencies (run shared-02)")
}

// TestInstancesStartTogether opens stores on a new database at the same
// moment: the advisory lock lets one create the schema while the others
// wait, and all of them open.
func TestInstancesStartTogether(t *testing.T) {
	url := pgtest.URL(t)
	const n = 6
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := postgressink.Open(context.Background(), url)
			if err == nil {
				err = s.Write(context.Background(), stagetrace.Batch{Spans: sharedRuns(1, 2)})
				err = joinErr(err, s.Close())
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "instance %d", i)
	}
	s := openStore(t, url)
	r, err := s.Run(context.Background(), "shared-00")
	require.NoError(t, err)
	assert.Equal(t, 2, r.Spans, "the same spans from six instances, stored once")
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// TestOneInstanceRunsRetention holds the retention lock as another
// instance would: Expire leaves the runs alone, then deletes them once the
// lock is free.
func TestOneInstanceRunsRetention(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	now := base.Add(48 * time.Hour)
	s := openStore(t, url, postgressink.WithTTL(time.Hour), postgressink.WithClock(func() time.Time { return now }),
		postgressink.WithRetentionChunk(5))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: sharedRuns(12, 3)}))

	other := openStore(t, url)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SELECT pg_advisory_lock(x'7374677400000002'::bigint)`)
	require.NoError(t, err)
	n, err := s.Expire(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "another instance holds retention")
	_, err = conn.Exec(ctx, `SELECT pg_advisory_unlock(x'7374677400000002'::bigint)`)
	require.NoError(t, err)

	n, err = s.Expire(ctx)
	require.NoError(t, err)
	assert.Equal(t, 12, n, "in chunks of 5")
	runs, err := other.Runs(ctx, query.RunFilter{})
	require.NoError(t, err)
	assert.Empty(t, runs)
	b, err := other.Spans(ctx, query.SpanQuery{})
	require.NoError(t, err)
	assert.Empty(t, b, "spans go with their runs")
}
