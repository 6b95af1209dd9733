package dataset

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/redact"
	"github.com/stagetrace/stagetrace/rules"
)

// Row is one evaluation record: a step of a session with its input, its
// output and the output expected of it, and the span it was read from.
type Row struct {
	Session        string    `json:"session" parquet:"session,dict"`
	Step           string    `json:"step" parquet:"step,dict"`
	Input          string    `json:"input" parquet:"input"`
	Output         string    `json:"output" parquet:"output"`
	ExpectedOutput string    `json:"expected_output" parquet:"expected_output"`
	RunID          string    `json:"run_id" parquet:"run_id,dict"`
	TraceID        string    `json:"trace_id" parquet:"trace_id"`
	SpanID         string    `json:"span_id" parquet:"span_id"`
	Name           string    `json:"name" parquet:"name,dict"`
	Time           time.Time `json:"time" parquet:"time,timestamp(nanosecond)"`
}

// Columns are the CSV header, in Row's order.
var Columns = []string{"session", "step", "input", "output", "expected_output", "run_id", "trace_id", "span_id", "name", "time"}

// Options say where the fields come from and how they are limited.
type Options struct {
	// Input, Output and Expected are keys read before the defaults (see
	// the package documentation), first found wins: an attribute key,
	// attr.<key> or finding.<name>.
	Input, Output, Expected []string
	// MaxFieldBytes, when positive, cuts input, output and expected
	// output to at most that many bytes, at a character boundary, ending
	// with TruncatedMark. A limit below the mark's length is raised to it.
	MaxFieldBytes int
	// Redactor, when set, masks the spans before any field is read.
	Redactor *redact.Redactor
}

// TruncatedMark ends a field MaxFieldBytes cut.
const TruncatedMark = "…[truncated]"

// Default keys, after those of Options.
var (
	defaultInput    = []string{string(rules.GenAIInputMessages), string(rules.OpenInferenceInputValue)}
	defaultOutput   = []string{string(rules.GenAIOutputMessages), string(rules.OpenInferenceOutputValue)}
	defaultExpected = []string{attributes.FindingPrefix + FieldExpectedOutput, FieldExpectedOutput}
	sessionKeys     = []string{string(rules.GenAIConversationID), string(rules.SessionID)}
)

// FieldExpectedOutput is the finding or attribute name read for the
// expected output when Options.Expected names none that a span has.
const FieldExpectedOutput = "expected_output"

// Check reports a key of o that names nothing: empty, or a bare prefix.
func (o Options) Check() error {
	if o.MaxFieldBytes < 0 {
		return fmt.Errorf("dataset: negative field size limit %d", o.MaxFieldBytes)
	}
	for _, keys := range [][]string{o.Input, o.Output, o.Expected} {
		for _, k := range keys {
			if k == "" || k == "attr." || k == attributes.FindingPrefix {
				return fmt.Errorf("dataset: key %q names no attribute or finding", k)
			}
		}
	}
	return nil
}

// Rows returns the rows of spans, in their order: one per span that has
// an input or an output. The spans are not modified; with a Redactor,
// rows are read from a redacted copy.
func Rows(spans []stagetrace.StageSpan, o Options) ([]Row, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Redactor != nil {
		// Batch replaces, never writes, the slices it is given.
		b := stagetrace.Batch{Spans: append([]stagetrace.StageSpan(nil), spans...)}
		o.Redactor.Batch(&b)
		spans = b.Spans
	}
	var rows []Row
	for i := range spans {
		s := &spans[i]
		in, hasIn := first(s, o.Input, defaultInput)
		out, hasOut := first(s, o.Output, defaultOutput)
		if !hasIn && !hasOut {
			continue
		}
		expected, _ := first(s, o.Expected, defaultExpected)
		session, ok := first(s, nil, sessionKeys)
		if !ok {
			session = s.RunID
		}
		step := s.Stage
		if step == "" {
			step = s.Name
		}
		rows = append(rows, Row{
			Session: session, Step: step,
			Input: cut(in, o.MaxFieldBytes), Output: cut(out, o.MaxFieldBytes), ExpectedOutput: cut(expected, o.MaxFieldBytes),
			RunID: s.RunID, TraceID: s.TraceID.String(), SpanID: s.SpanID.String(), Name: s.Name, Time: s.StartTime.UTC(),
		})
	}
	return rows, nil
}

// first returns the text of the first key of keys, then of defaults,
// that s has.
func first(s *stagetrace.StageSpan, keys, defaults []string) (string, bool) {
	for _, list := range [][]string{keys, defaults} {
		for _, k := range list {
			if v, ok := lookup(s, k); ok {
				return v.String(), true
			}
		}
	}
	return "", false
}

func lookup(s *stagetrace.StageSpan, key string) (stagetrace.Value, bool) {
	if name, ok := strings.CutPrefix(key, attributes.FindingPrefix); ok {
		return s.Findings.Get(name)
	}
	key = strings.TrimPrefix(key, "attr.")
	return s.Attrs.Get(key)
}

// cut shortens s to at most limit bytes, ending with TruncatedMark, at a
// character boundary; limit 0 keeps it whole.
func cut(s string, limit int) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	limit = max(limit, len(TruncatedMark))
	end := limit - len(TruncatedMark)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + TruncatedMark
}
