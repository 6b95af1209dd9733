package query

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Formats spans are exported in.
const (
	// FormatJSONL writes one span per line in stagetrace's JSON line form,
	// which stagetrace.NewDecoder and the command's --jsonl read back.
	FormatJSONL = "jsonl"
	// FormatCSV writes a header and one row per span: the built-in fields,
	// then one column per field of SpanQuery.Attrs or, without Attrs, one
	// per finding name found in the spans exported. A cell that a
	// spreadsheet would run as a formula is neutralised (see NeutralCell).
	FormatCSV = "csv"
	// FormatCSVRaw is FormatCSV with every cell as it is: for programs
	// that read CSV, never for a spreadsheet.
	FormatCSVRaw = "csv-raw"
)

// IsCSV reports whether format is one of the CSV formats.
func IsCSV(format string) bool { return format == FormatCSV || format == FormatCSVRaw }

// NeutralCell returns cell as it may be opened in a spreadsheet: a cell
// starting with = + - @, a tab or a CR, which a spreadsheet would run as a
// formula (=HYPERLINK(...), @SUM(...)), gets a leading single quote, as
// OWASP advises against CSV injection. A number (-0.5) is left as it is.
func NeutralCell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
	default:
		return cell
	}
	if f, err := strconv.ParseFloat(cell, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return cell
	}
	return "'" + cell
}

// csvFields are the first columns of a CSV export.
var csvFields = []string{
	FieldRunID, FieldTraceID, "span_id", "parent_span_id", FieldStage, FieldName,
	FieldKind, FieldStatus, "status_message", FieldStartTime, OrderEndTime, FieldElapsedMS, FieldScope,
}

// CheckFormat reports an export format other than FormatJSONL and
// FormatCSV.
func CheckFormat(format string) error {
	switch format {
	case FormatJSONL, FormatCSV, FormatCSVRaw:
		return nil
	}
	return fmt.Errorf("unknown export format %q: want %s, %s or %s", format, FormatJSONL, FormatCSV, FormatCSVRaw)
}

// FindingColumns returns the CSV columns of the findings of spans:
// finding.<name> for every name, in name order.
func FindingColumns(spans []stagetrace.StageSpan) []string {
	seen := map[string]bool{}
	var cols []string
	for i := range spans {
		for _, f := range spans[i].Findings {
			if !seen[f.Key] {
				seen[f.Key] = true
				cols = append(cols, attributes.FindingPrefix+f.Key)
			}
		}
	}
	slices.Sort(cols)
	return cols
}

// SpanWriter writes spans in an export format, as they come, so that
// exports larger than memory work.
type SpanWriter struct {
	format string
	bw     *bufio.Writer
	proj   Projection
	n      int
	// JSONL
	enc  stagetrace.Encoder
	line []byte
	// CSV
	cw     *csv.Writer
	raw    bool // FormatCSVRaw: no NeutralCell
	refs   []Ref
	record []string
}

// NewSpanWriter returns a writer of spans to w in format; attrs is
// SpanQuery.Attrs. For CSV, cols are the columns after the built-in ones
// (attrs, or FindingColumns of the spans), and the header is written.
func NewSpanWriter(w io.Writer, format string, cols, attrs []string) (*SpanWriter, error) {
	if err := CheckFormat(format); err != nil {
		return nil, err
	}
	proj, err := NewProjection(attrs)
	if err != nil {
		return nil, err
	}
	sw := &SpanWriter{format: format, bw: bufio.NewWriterSize(w, 64<<10), proj: proj}
	if !IsCSV(format) {
		return sw, nil
	}
	sw.raw = format == FormatCSVRaw
	sw.refs = make([]Ref, len(cols))
	for i, c := range cols {
		if sw.refs[i], err = ParseField(c); err != nil {
			return nil, fmt.Errorf("attrs: %w", err)
		}
	}
	sw.cw = csv.NewWriter(sw.bw)
	if err := sw.cw.Write(sw.neutral(append(append([]string{}, csvFields...), cols...))); err != nil {
		return nil, err
	}
	return sw, nil
}

// Write writes one span.
func (sw *SpanWriter) Write(span *stagetrace.StageSpan) error {
	sw.n++
	if sw.cw != nil {
		sw.record = appendCSV(sw.record[:0], span, sw.refs)
		return sw.cw.Write(sw.neutral(sw.record))
	}
	projected := sw.proj.Apply(*span)
	sw.line = sw.enc.AppendSpan(sw.line[:0], &projected)
	_, err := sw.bw.Write(sw.line)
	return err
}

// neutral applies NeutralCell to every cell of record, unless raw.
func (sw *SpanWriter) neutral(record []string) []string {
	if !sw.raw {
		for i := range record {
			record[i] = NeutralCell(record[i])
		}
	}
	return record
}

// Count returns how many spans were written.
func (sw *SpanWriter) Count() int { return sw.n }

// Close writes what is buffered; it does not close the underlying writer.
func (sw *SpanWriter) Close() error {
	if sw.cw != nil {
		sw.cw.Flush()
		if err := sw.cw.Error(); err != nil {
			return err
		}
	}
	return sw.bw.Flush()
}

// WriteSpans writes spans to w in format, as a store exports the same
// spans; attrs is SpanQuery.Attrs. It returns how many spans it wrote.
func WriteSpans(w io.Writer, spans []stagetrace.StageSpan, format string, attrs []string) (int, error) {
	cols := attrs
	if IsCSV(format) && len(cols) == 0 {
		cols = FindingColumns(spans)
	}
	sw, err := NewSpanWriter(w, format, cols, attrs)
	if err != nil {
		return 0, err
	}
	for i := range spans {
		if err := sw.Write(&spans[i]); err != nil {
			return sw.n, fmt.Errorf("export: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return sw.n, fmt.Errorf("export: %w", err)
	}
	return sw.n, nil
}

func appendCSV(record []string, s *stagetrace.StageSpan, refs []Ref) []string {
	record = append(record,
		s.RunID, s.TraceID.String(), s.SpanID.String(), s.ParentSpanID.String(), s.Stage, s.Name,
		s.Kind.String(), s.Status.String(), s.StatusMessage,
		s.StartTime.UTC().Format(time.RFC3339Nano), s.EndTime.UTC().Format(time.RFC3339Nano),
		strconv.FormatFloat(s.ElapsedMS(), 'f', -1, 64), s.Scope)
	for _, ref := range refs {
		v, ok := Lookup(s, ref)
		if !ok {
			record = append(record, "")
			continue
		}
		record = append(record, v.String())
	}
	return record
}
