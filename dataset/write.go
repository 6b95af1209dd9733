package dataset

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/stagetrace/stagetrace/query"
)

// Formats rows are written in.
const (
	FormatJSONL   = query.FormatJSONL // one JSON object per row and line
	FormatCSV     = query.FormatCSV   // a header, then one row per line, formula-like cells neutralised
	FormatCSVRaw  = query.FormatCSVRaw
	FormatParquet = "parquet" // one row group, the columns of Row
)

// CheckFormat reports a format Write does not know.
func CheckFormat(format string) error {
	switch format {
	case FormatJSONL, FormatCSV, FormatCSVRaw, FormatParquet:
		return nil
	}
	return fmt.Errorf("unknown dataset format %q: want %s, %s or %s", format, FormatJSONL, FormatCSV, FormatParquet)
}

// Write writes rows to w in format.
func Write(w io.Writer, format string, rows []Row) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	switch format {
	case FormatJSONL:
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for i := range rows {
			if err := enc.Encode(&rows[i]); err != nil {
				return err
			}
		}
		return bw.Flush()
	case FormatParquet:
		pw := parquet.NewGenericWriter[Row](w)
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	cell := query.NeutralCell
	if format == FormatCSVRaw {
		cell = func(s string) string { return s }
	}
	for _, r := range rows {
		rec := []string{r.Session, r.Step, r.Input, r.Output, r.ExpectedOutput, r.RunID, r.TraceID, r.SpanID, r.Name, r.Time.Format(time.RFC3339Nano)}
		for i := range rec {
			rec[i] = cell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
