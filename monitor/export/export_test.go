package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/export"
)

// exportMonitor returns a monitor holding a span series, a stage, a
// finding, a metric and two models.
func exportMonitor(t *testing.T) *monitor.Monitor {
	t.Helper()
	clk := newClock()
	m := newMonitor(t, clk)
	now := clk.Now()
	write(t, m,
		span("chat", now, 100*time.Millisecond, inStage("inference"), tokens("gpt-4o", 800, 95), cost(0.1)),
		span("chat", now, 300*time.Millisecond, inStage("inference"), tokens("gpt-4o", 12, 5), cost(0.2), failed()),
		span("judge", now, 10*time.Millisecond, inStage("evaluation"), tokens("gpt-4o-mini", 300, 5), finding("response_safe_score", f64(0.97))),
	)
	writeEvents(t, m, metricEvent("ttft", f64(41.5), "ms", now))
	return m
}

func TestExportJSON(t *testing.T) {
	m := exportMonitor(t)
	var buf bytes.Buffer
	require.NoError(t, export.Write(&buf, m, "json", time.Minute))
	var got monitor.Snapshot
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	want := m.Snapshot(time.Minute)
	assert.True(t, want.Time.Equal(got.Time))
	assert.Equal(t, 60.0, got.WindowSeconds)
	require.Len(t, got.Metrics, len(want.Metrics))
	for i := range want.Metrics {
		want.Metrics[i].Window = 0 // not in the JSON: window_seconds is
		assert.Equal(t, want.Metrics[i], got.Metrics[i])
	}
	var keys []string
	for _, s := range got.Metrics {
		keys = append(keys, s.Key())
	}
	assert.Equal(t, []string{
		"finding:cost", "finding:input_tokens", "finding:output_tokens", "finding:response_safe_score",
		"metric:ttft", "span:chat", "span:judge", "stage:evaluation", "stage:inference",
	}, keys, "by kind, then name; numeric findings only (not model, cost_currency)")
	assert.Equal(t, want.TokenUsage.Total, got.TokenUsage.Total)
	assert.Equal(t, int64(1217), got.TokenUsage.Total.TotalTokens)
}

func TestExportCSV(t *testing.T) {
	m := exportMonitor(t)
	var buf bytes.Buffer
	require.NoError(t, export.Write(&buf, m, "CSV", time.Minute))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Equal(t, export.CSVHeader, recs[0])
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		require.Len(t, r, len(export.CSVHeader))
		rows[r[col["kind"]]+":"+r[col["name"]]] = r
	}
	chat := rows["span:chat"]
	require.NotNil(t, chat, "%v", rows)
	assert.Equal(t, "2025-06-01T12:00:00Z", chat[col["time"]])
	assert.Equal(t, "60", chat[col["window_seconds"]])
	assert.Equal(t, "2", chat[col["count"]])
	assert.Equal(t, "1", chat[col["errors"]])
	assert.Equal(t, "0.5", chat[col["success_rate"]])
	assert.Equal(t, "200", chat[col["mean"]])
	assert.Equal(t, "290", chat[col["p95"]])
	assert.Equal(t, "ms", chat[col["unit"]])
	gpt := rows["model:gpt-4o"]
	require.NotNil(t, gpt)
	assert.Equal(t, "2", gpt[col["count"]])
	assert.Equal(t, "812", gpt[col["input_tokens"]])
	assert.Equal(t, "912", gpt[col["total_tokens"]])
	assert.Equal(t, "0.3", gpt[col["cost"]])
	assert.Equal(t, "USD", gpt[col["currency"]])
	total := rows["total:total"]
	require.NotNil(t, total)
	assert.Equal(t, "1217", total[col["total_tokens"]])
}

func TestExportParquet(t *testing.T) {
	m := exportMonitor(t)
	var buf bytes.Buffer
	require.NoError(t, export.Write(&buf, m, "parquet", time.Minute))
	got, err := parquet.Read[export.Row](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	want := export.Rows(m.Snapshot(time.Minute))
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, want[i].Time.Equal(got[i].Time), "row %d time", i)
		got[i].Time = want[i].Time
		assert.Equal(t, want[i], got[i], "row %d", i)
	}
	assert.Equal(t, export.RowTotal, got[len(got)-1].Kind)
	assert.Equal(t, int64(1217), got[len(got)-1].TotalTokens)
}

func TestExportOfAnEmptyMonitor(t *testing.T) {
	m := newMonitor(t, newClock())
	for _, f := range []string{"json", "csv", "parquet"} {
		var buf bytes.Buffer
		require.NoError(t, export.Write(&buf, m, f, time.Minute), f)
		assert.NotZero(t, buf.Len(), f)
	}
	var buf bytes.Buffer
	require.NoError(t, export.Write(&buf, m, "parquet", time.Minute))
	rows, err := parquet.Read[export.Row](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, rows, 1, "the total alone")
	assert.Zero(t, rows[0].TotalTokens)
}

func TestExportRejectsBadArguments(t *testing.T) {
	m := newMonitor(t, newClock())
	var buf bytes.Buffer
	assert.ErrorContains(t, export.Write(&buf, m, "xlsx", time.Minute), `unknown export format "xlsx" (known: json, csv, parquet)`)
	assert.ErrorContains(t, export.Write(&buf, m, "csv", 0), "window 0s is not positive")
	assert.ErrorContains(t, export.Encode(&buf, "xlsx", m.Snapshot(time.Minute)), `unknown export format "xlsx"`)
	assert.Zero(t, buf.Len())
	_, err := export.ToDir(t.TempDir(), "xlsx")
	assert.ErrorContains(t, err, `unknown export format "xlsx"`)
	_, err = export.ToDir("", "csv")
	assert.ErrorContains(t, err, "empty directory")
}

func TestSnapshotAtShutdown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snapshots")
	clk := newClock()
	save, err := export.ToDir(dir, "parquet")
	require.NoError(t, err)
	m, err := monitor.New(monitor.WithClock(clk.Now), monitor.WithSnapshots(time.Hour, save))
	require.NoError(t, err)
	write(t, m, span("chat", clk.Now(), time.Second, tokens("gpt-4o", 10, 1)))
	clk.Advance(10 * time.Second)
	require.NoError(t, m.Shutdown(context.Background()))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "metrics-20250601T120010.000Z.parquet", entries[0].Name())
	rows, err := parquet.ReadFile[export.Row](filepath.Join(dir, entries[0].Name()))
	require.NoError(t, err)
	require.Len(t, rows, 5, "two findings, span chat, the model and the total: %v", rows)
	assert.Equal(t, "finding", rows[0].Kind)
	assert.InDelta(t, 10.0, rows[0].WindowSeconds, 1e-9, "the period since the monitor started")
	assert.Equal(t, export.RowTotal, rows[len(rows)-1].Kind)
	assert.Equal(t, int64(11), rows[len(rows)-1].TotalTokens)
}

func TestPeriodicSnapshots(t *testing.T) {
	dir := t.TempDir()
	save, err := export.ToDir(dir, "csv")
	require.NoError(t, err)
	m, err := monitor.New(monitor.WithSnapshots(20*time.Millisecond, save))
	require.NoError(t, err)
	require.NoError(t, m.Write(context.Background(), stagetrace.Batch{Spans: []stagetrace.StageSpan{span("chat", time.Now(), time.Millisecond)}}))
	require.Eventually(t, func() bool {
		entries, _ := os.ReadDir(dir)
		return len(entries) >= 2
	}, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, m.Shutdown(context.Background()))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, strings.HasPrefix(e.Name(), "metrics-") && strings.HasSuffix(e.Name(), ".csv"), e.Name())
		f, err := os.Open(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		require.NoError(t, err, e.Name())
		assert.Equal(t, export.CSVHeader, recs[0])
	}
}
