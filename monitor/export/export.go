// Package export writes what a monitor holds for other tools to read: a
// monitor.Snapshot as JSON, or as rows of CSV or Parquet, to a writer
// (Write, Encode) or to a new file every period (ToDir, given to
// monitor.WithSnapshots). It is the one package of the monitor that
// depends on Parquet, so that importing the monitor does not.
package export

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/stagetrace/stagetrace/monitor"
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

// Row is one row of a CSV or Parquet export: the stats of one series
// (Kind span, stage, metric or finding), or the token usage of one model
// (Kind model) or of all (Kind total, Name total). Columns a row's kind
// does not have are zero.
type Row struct {
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

// CSVHeader is the header row of a CSV export, the columns of Row.
var CSVHeader = []string{
	"time", "window_seconds", "kind", "name", "unit", "count", "errors", "success_rate", "error_rate",
	"values", "invalid", "mean", "min", "max", "p50", "p95", "p99", "exact",
	"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
	"reasoning_output_tokens", "total_tokens", "cost", "currency",
}

// Rows returns the snapshot as export rows: the series, then the models,
// then the total.
func Rows(s monitor.Snapshot) []Row {
	rows := make([]Row, 0, len(s.Metrics)+len(s.TokenUsage.Models)+1)
	for _, st := range s.Metrics {
		rows = append(rows, Row{
			Time: s.Time, WindowSeconds: s.WindowSeconds, Kind: string(st.Kind), Name: st.Name, Unit: st.Unit,
			Count: st.Count, Errors: st.Errors, SuccessRate: st.SuccessRate, ErrorRate: st.ErrorRate,
			Values: st.Values, Invalid: st.Invalid, Mean: st.Mean, Min: st.Min, Max: st.Max,
			P50: st.P50, P95: st.P95, P99: st.P99, Exact: st.Exact,
			InputTokens: st.InputTokens, OutputTokens: st.OutputTokens, TotalTokens: st.TotalTokens,
		})
	}
	usage := func(kind string, u monitor.ModelUsage) Row {
		return Row{
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

func (r *Row) csv() []string {
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

// Write writes the metrics of every series of m active in the window
// ending now and the token usage over it to w: format "json" writes a
// monitor.Snapshot, "csv" and "parquet" write Rows.
func Write(w io.Writer, m *monitor.Monitor, format string, window time.Duration) error {
	f, err := parseFormat(format)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if window <= 0 {
		return fmt.Errorf("export: window %v is not positive", window)
	}
	return encode(w, f, m.Snapshot(window))
}

// Encode writes snap to w in format: "json", "csv" or "parquet".
func Encode(w io.Writer, format string, snap monitor.Snapshot) error {
	f, err := parseFormat(format)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return encode(w, f, snap)
}

func encode(w io.Writer, format string, snap monitor.Snapshot) error {
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
		for _, r := range Rows(snap) {
			if err := cw.Write(r.csv()); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	default:
		pw := parquet.NewGenericWriter[Row](w)
		if _, err := pw.Write(Rows(snap)); err != nil {
			return err
		}
		return pw.Close()
	}
}

// ToDir returns a function writing each snapshot it is given to a new
// file in dir, in format ("json", "csv" or "parquet"), for
// monitor.WithSnapshots. Files are named metrics-<UTC time>.<format> after
// the snapshot's time and appear whole: written, then renamed.
func ToDir(dir, format string) (func(monitor.Snapshot) error, error) {
	f, err := parseFormat(format)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if dir == "" {
		return nil, errors.New("export: empty directory")
	}
	return func(snap monitor.Snapshot) error { return writeFile(dir, f, snap) }, nil
}

func writeFile(dir, format string, snap monitor.Snapshot) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	name := "metrics-" + snap.Time.UTC().Format("20060102T150405.000Z") + "." + format
	tmp, err := os.CreateTemp(dir, ".metrics-*.tmp")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	err = encode(tmp, format, snap)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("export: %s: %w", name, err)
	}
	return nil
}
