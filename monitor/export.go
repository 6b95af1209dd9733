package monitor

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Export formats.
const (
	FormatJSON    = "json"
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

func parseFormat(f string) (string, error) {
	switch strings.ToLower(f) {
	case FormatJSON:
		return FormatJSON, nil
	case FormatCSV:
		return FormatCSV, nil
	case FormatParquet:
		return FormatParquet, nil
	}
	return "", fmt.Errorf("unknown export format %q (known: json, csv, parquet)", f)
}

// Row kinds of an export beyond the series kinds: the token usage of one
// model, and of all models.
const (
	RowModel = "model"
	RowTotal = "total"
)

// ExportRow is one row of a CSV or Parquet export: the stats of one series
// (Kind span, stage, metric or finding), or the token usage of one model
// (Kind model) or of all (Kind total, Name total). Columns a row's kind
// does not have are zero.
type ExportRow struct {
	Time                     time.Time `parquet:"time,timestamp(millisecond)" json:"time"`
	WindowSeconds            float64   `parquet:"window_seconds" json:"window_seconds"`
	Kind                     string    `parquet:"kind,dict" json:"kind"`
	Name                     string    `parquet:"name,dict" json:"name"`
	Unit                     string    `parquet:"unit,dict" json:"unit"`
	Count                    int64     `parquet:"count" json:"count"` // records, or calls of a model
	Errors                   int64     `parquet:"errors" json:"errors"`
	SuccessRate              float64   `parquet:"success_rate" json:"success_rate"`
	ErrorRate                float64   `parquet:"error_rate" json:"error_rate"`
	Values                   int64     `parquet:"values" json:"values"`
	Invalid                  int64     `parquet:"invalid" json:"invalid"`
	Mean                     float64   `parquet:"mean" json:"mean"`
	Min                      float64   `parquet:"min" json:"min"`
	Max                      float64   `parquet:"max" json:"max"`
	P50                      float64   `parquet:"p50" json:"p50"`
	P95                      float64   `parquet:"p95" json:"p95"`
	P99                      float64   `parquet:"p99" json:"p99"`
	Exact                    bool      `parquet:"exact" json:"exact"`
	InputTokens              int64     `parquet:"input_tokens" json:"input_tokens"`
	OutputTokens             int64     `parquet:"output_tokens" json:"output_tokens"`
	CacheReadInputTokens     int64     `parquet:"cache_read_input_tokens" json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64     `parquet:"cache_creation_input_tokens" json:"cache_creation_input_tokens"`
	ReasoningOutputTokens    int64     `parquet:"reasoning_output_tokens" json:"reasoning_output_tokens"`
	TotalTokens              int64     `parquet:"total_tokens" json:"total_tokens"`
	Cost                     float64   `parquet:"cost" json:"cost"`
	Currency                 string    `parquet:"currency,dict" json:"currency"`
}

// CSVHeader is the header row of a CSV export, the columns of ExportRow.
var CSVHeader = []string{
	"time", "window_seconds", "kind", "name", "unit", "count", "errors", "success_rate", "error_rate",
	"values", "invalid", "mean", "min", "max", "p50", "p95", "p99", "exact",
	"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
	"reasoning_output_tokens", "total_tokens", "cost", "currency",
}

// Rows returns the snapshot as export rows: the series, then the models,
// then the total.
func (s Snapshot) Rows() []ExportRow {
	rows := make([]ExportRow, 0, len(s.Metrics)+len(s.TokenUsage.Models)+1)
	for _, st := range s.Metrics {
		rows = append(rows, ExportRow{
			Time: s.Time, WindowSeconds: s.WindowSeconds, Kind: string(st.Kind), Name: st.Name, Unit: st.Unit,
			Count: st.Count, Errors: st.Errors, SuccessRate: st.SuccessRate, ErrorRate: st.ErrorRate,
			Values: st.Values, Invalid: st.Invalid, Mean: st.Mean, Min: st.Min, Max: st.Max,
			P50: st.P50, P95: st.P95, P99: st.P99, Exact: st.Exact,
			InputTokens: st.InputTokens, OutputTokens: st.OutputTokens, TotalTokens: st.TotalTokens,
		})
	}
	usage := func(kind string, u ModelUsage) ExportRow {
		return ExportRow{
			Time: s.Time, WindowSeconds: s.WindowSeconds, Kind: kind, Name: u.Model, Count: u.Calls,
			InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
			CacheReadInputTokens: u.CacheReadInputTokens, CacheCreationInputTokens: u.CacheCreationInputTokens,
			ReasoningOutputTokens: u.ReasoningOutputTokens, TotalTokens: u.TotalTokens,
			Cost: u.Cost, Currency: u.Currency,
		}
	}
	for _, u := range s.TokenUsage.Models {
		rows = append(rows, usage(RowModel, u))
	}
	return append(rows, usage(RowTotal, s.TokenUsage.Total))
}

func (r *ExportRow) csv() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []string{
		r.Time.UTC().Format(time.RFC3339Nano), f(r.WindowSeconds), r.Kind, r.Name, r.Unit,
		i(r.Count), i(r.Errors), f(r.SuccessRate), f(r.ErrorRate),
		i(r.Values), i(r.Invalid), f(r.Mean), f(r.Min), f(r.Max), f(r.P50), f(r.P95), f(r.P99),
		strconv.FormatBool(r.Exact),
		i(r.InputTokens), i(r.OutputTokens), i(r.CacheReadInputTokens), i(r.CacheCreationInputTokens),
		i(r.ReasoningOutputTokens), i(r.TotalTokens), f(r.Cost), r.Currency,
	}
}

// Export writes the metrics of every series active in the window ending
// now and the token usage over it to w: format "json" writes a Snapshot,
// "csv" and "parquet" write ExportRows.
func (m *Monitor) Export(w io.Writer, format string, window time.Duration) error {
	f, err := parseFormat(format)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if window <= 0 {
		return fmt.Errorf("monitor: export window %v is not positive", window)
	}
	return writeSnapshotTo(w, f, m.Snapshot(window))
}

func writeSnapshotTo(w io.Writer, format string, snap Snapshot) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(CSVHeader); err != nil {
			return err
		}
		for _, r := range snap.Rows() {
			if err := cw.Write(r.csv()); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	default:
		pw := parquet.NewGenericWriter[ExportRow](w)
		if _, err := pw.Write(snap.Rows()); err != nil {
			return err
		}
		return pw.Close()
	}
}

// writeSnapshot writes the snapshot of the period since the last one to a
// new file in the snapshot directory.
func (m *Monitor) writeSnapshot() error {
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	now := m.cfg.clock()
	m.mu.Lock()
	window := m.cfg.snapEvery
	if since := now.Sub(m.lastSnap); since > 0 && since < window {
		window = since // the last, shorter period at Shutdown
	}
	snap := m.snapshot(now, window)
	m.lastSnap = now
	m.mu.Unlock()
	format, _ := parseFormat(m.cfg.snapFormat)
	if err := os.MkdirAll(m.cfg.snapDir, 0o755); err != nil {
		return fmt.Errorf("monitor: snapshot: %w", err)
	}
	name := "metrics-" + now.UTC().Format("20060102T150405.000Z") + "." + format
	tmp, err := os.CreateTemp(m.cfg.snapDir, ".metrics-*.tmp")
	if err != nil {
		return fmt.Errorf("monitor: snapshot: %w", err)
	}
	err = writeSnapshotTo(tmp, format, snap)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(m.cfg.snapDir, name))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("monitor: snapshot %s: %w", name, err)
	}
	return nil
}
