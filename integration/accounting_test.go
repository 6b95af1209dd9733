package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/report"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/usage"
)

// TestOneAccounting feeds random batches, bad values included, through
// every consumer of the accounting and checks that they agree: the store's
// rollup, the monitor's run summary and token usage, the report's totals
// and the sum over the records of a JSONL file read back.
func TestOneAccounting(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			checkOneAccounting(t, rand.New(rand.NewPCG(seed, 99)))
		})
	}
}

func checkOneAccounting(t *testing.T, rng *rand.Rand) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	jsonlPath := filepath.Join(dir, "runs.jsonl")
	file, err := jsonlsink.New(jsonlPath)
	require.NoError(t, err)
	mon, err := monitor.New()
	require.NoError(t, err)

	runIDs := []string{"r-a", "r-b", "r-c"}[:1+rng.IntN(3)]
	var next byte
	for range 1 + rng.IntN(5) {
		var b stagetrace.Batch
		for range 1 + rng.IntN(12) {
			next++
			b.Spans = append(b.Spans, randomSpan(rng, runIDs[rng.IntN(len(runIDs))], next))
		}
		for _, s := range []stagetrace.Sink{store, file, mon} {
			require.NoError(t, s.Write(ctx, b))
		}
	}
	require.NoError(t, file.Shutdown(ctx))

	records := readJSONL(t, jsonlPath)
	// The sum over the records, one span at a time.
	sums := map[string]*usage.Totals{}
	for i := range records {
		u := usage.Of(&records[i])
		if sums[records[i].RunID] == nil {
			sums[records[i].RunID] = &usage.Totals{}
		}
		sums[records[i].RunID].Add(&u)
	}
	fromRecords := usage.Runs(records, nil)
	stored, err := store.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	require.Equal(t, fromRecords, stored, "store rollup = rollup of the JSONL records")

	for _, run := range stored {
		sum := sums[run.ID]
		var want stagetrace.Run
		usage.SetRunTotals(&want, sum)
		assert.Equal(t, totalsOf(want), totalsOf(run), "run %s: store = sum over the JSONL records", run.ID)

		ms, ok := mon.RunSummary(run.ID)
		require.True(t, ok)
		assert.Equal(t, run, ms.Run, "run %s: store = monitor", run.ID)

		var runSpans []stagetrace.StageSpan
		for i := range records {
			if records[i].RunID == run.ID {
				runSpans = append(runSpans, records[i])
			}
		}
		total := monitor.UsageOf(runSpans).Total
		assert.Equal(t, sum.Tokens, total.Tokens, "run %s: monitor token usage = sum", run.ID)
		assert.Equal(t, costOf(sum), costOf(&total.Totals), "run %s: monitor cost = sum", run.ID)

		assert.Equal(t, reportTotals(run), reportTotalsOf(t, runSpans), "run %s: report = store", run.ID)
	}
	require.NoError(t, store.Shutdown(ctx))
	require.NoError(t, mon.Shutdown(ctx))
}

// totalsOf keeps the token and cost fields of a run.
func totalsOf(r stagetrace.Run) stagetrace.Run {
	return stagetrace.Run{
		Tokens: r.Tokens, Cost: r.Cost, CostNanos: r.CostNanos, Currency: r.Currency,
		CostSpans: r.CostSpans, CostErrors: r.CostErrors, CostUnknown: r.CostUnknown,
	}
}

type cost struct {
	nanos    int64
	currency string
	errors   int64
	unknown  bool
}

func costOf(t *usage.Totals) cost {
	return cost{t.CostNanos, t.Currency, t.CostErrors, t.CostUnknown}
}

// reportTotals is what the report's token-total row says of a run.
func reportTotals(r stagetrace.Run) map[string]string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	return map[string]string{
		"input-tokens": i(r.InputTokens), "output-tokens": i(r.OutputTokens),
		"cache-read-tokens": i(r.CacheReadInputTokens), "cache-creation-tokens": i(r.CacheCreationInputTokens),
		"reasoning-tokens": i(r.ReasoningOutputTokens), "total-tokens": i(r.TotalTokens),
		"cost-nanos": i(r.CostNanos), "currency": r.Currency, "cost-errors": i(r.CostErrors),
		"cost-unknown": strconv.FormatBool(r.CostUnknown),
	}
}

// accountingT0 is when the random spans start.
var accountingT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

var totalRow = regexp.MustCompile(`<tr id="token-total"([^>]*)>`)
var dataAttr = regexp.MustCompile(`data-([a-z-]+)="([^"]*)"`)

// reportTotalsOf renders the report of spans and reads its token-total row.
func reportTotalsOf(t *testing.T, spans []stagetrace.StageSpan) map[string]string {
	var buf bytes.Buffer
	require.NoError(t, report.Write(&buf, report.FromRecords(spans, nil)))
	row := totalRow.FindStringSubmatch(buf.String())
	require.NotNil(t, row, "the report has a token-total row")
	got := map[string]string{}
	want := reportTotals(stagetrace.Run{})
	for _, m := range dataAttr.FindAllStringSubmatch(row[1], -1) {
		if _, ok := want[m[1]]; ok {
			got[m[1]] = m[2]
		}
	}
	return got
}

func readJSONL(t *testing.T, path string) []stagetrace.StageSpan {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var spans []stagetrace.StageSpan
	dec := stagetrace.NewDecoder(f)
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return spans
		}
		require.NoError(t, err)
		if rec.Span != nil {
			spans = append(spans, *rec.Span)
		}
	}
}

// randomSpan returns a span of run whose usage findings are drawn from
// good and bad values alike.
func randomSpan(rng *rand.Rand, run string, n byte) stagetrace.StageSpan {
	start := accountingT0.Add(time.Duration(rng.IntN(10_000)) * time.Millisecond)
	s := stagetrace.StageSpan{
		RunID: run, Stage: []string{"", "retrieval", "inference", "evaluation"}[rng.IntN(4)],
		Name: "span", TraceID: stagetrace.TraceID{1, n}, SpanID: stagetrace.SpanID{2, n},
		StartTime: start, EndTime: start.Add(time.Duration(rng.IntN(5000)) * time.Millisecond),
	}
	if rng.IntN(5) == 0 {
		s.Status = stagetrace.StatusError
	}
	for _, key := range []string{
		attributes.FindingInputTokens, attributes.FindingOutputTokens, attributes.FindingCacheReadInputTokens,
		attributes.FindingCacheCreationInputTokens, attributes.FindingReasoningOutputTokens, attributes.FindingTotalTokens,
	} {
		if v, ok := randomCount(rng); ok {
			s.Findings = append(s.Findings, stagetrace.Attr{Key: key, Value: v})
		}
	}
	switch rng.IntN(4) {
	case 0:
		s.Findings = append(s.Findings, stagetrace.Attr{Key: attributes.FindingModel, Value: stagetrace.StringValue("gpt-4o")})
	case 1:
		s.Attrs = append(s.Attrs, stagetrace.Attr{Key: string(attributes.GenAIRequestModel), Value: stagetrace.StringValue("claude")})
	}
	if v, ok := randomCost(rng); ok {
		s.Findings = append(s.Findings, stagetrace.Attr{Key: attributes.FindingCost, Value: v})
		if cur := []string{"", "USD", "USD", "USD", "EUR"}[rng.IntN(5)]; cur != "" {
			s.Findings = append(s.Findings, stagetrace.Attr{Key: attributes.FindingCostCurrency, Value: stagetrace.StringValue(cur)})
		}
	}
	if rng.IntN(10) == 0 {
		s.Findings = append(s.Findings, stagetrace.Attr{Key: attributes.FindingCostError, Value: stagetrace.StringValue("no price")})
	}
	return s
}

func randomCount(rng *rand.Rand) (stagetrace.Value, bool) {
	switch rng.IntN(10) {
	case 0, 1, 2:
		return stagetrace.Int64Value(rng.Int64N(5000)), true
	case 3:
		return stagetrace.Float64Value(float64(rng.Int64N(5000))), true // a whole float counts
	case 4:
		return stagetrace.Float64Value(10.6), true
	case 5:
		return stagetrace.Int64Value(-5), true
	case 6:
		return stagetrace.Float64Value(math.NaN()), true
	case 7:
		return stagetrace.StringValue("12"), true
	case 8:
		if rng.IntN(3) == 0 { // near the top: sums saturate
			return stagetrace.Int64Value(math.MaxInt64 - rng.Int64N(3)), true
		}
	}
	return stagetrace.Value{}, false
}

func randomCost(rng *rand.Rand) (stagetrace.Value, bool) {
	switch rng.IntN(8) {
	case 0, 1, 2:
		return stagetrace.Float64Value(usage.Cost{Nanos: rng.Int64N(50_000_000)}.Float64()), true
	case 3:
		return stagetrace.Int64Value(rng.Int64N(3)), true
	case 4:
		return stagetrace.Float64Value(-0.5), true
	case 5:
		return stagetrace.StringValue("free"), true
	}
	return stagetrace.Value{}, false
}
