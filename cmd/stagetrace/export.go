package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stagetrace/stagetrace/dataset"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/redact"
)

// datasetEval is the --dataset of evaluation rows.
const datasetEval = "eval"

// evalFlags are export's flags for --dataset eval.
type evalFlags struct {
	kind                    *string
	input, output, expected *string
	maxField                *int
	noRedact                *bool
}

func addEvalFlags(fs *flag.FlagSet) *evalFlags {
	return &evalFlags{
		kind: fs.String("dataset", "", "eval: one row per span with an input or an output: session, step, input, output, expected output\n"+
			"(from gen_ai.input.messages / gen_ai.output.messages, input.value / output.value, or the keys below)"),
		input:    fs.String("input", "", "comma-separated `keys` the input is read from first: attributes, or finding.<name>"),
		output:   fs.String("output", "", "comma-separated `keys` the output is read from first"),
		expected: fs.String("expected", "", "comma-separated `keys` the expected output is read from first (default finding.expected_output, then expected_output)"),
		maxField: fs.Int("max-field-bytes", 0, "cut input, output and expected output to this many `bytes` (0: whole)"),
		noRedact: fs.Bool("no-redact", false, "export content as it is: by default API keys, bearer tokens, e-mail addresses and card numbers are masked"),
	}
}

// given reports whether a flag of --dataset eval was set without it.
func (f *evalFlags) given() bool {
	return *f.input != "" || *f.output != "" || *f.expected != "" || *f.maxField != 0 || *f.noRedact
}

// export writes the evaluation rows of the spans q selects.
func (f *evalFlags) export(ctx context.Context, s *source, q query.SpanQuery, format string, w io.Writer) (int, error) {
	if len(q.Attrs) > 0 {
		return 0, usagef("--attrs does not go with --dataset eval: rows read the attributes they need")
	}
	if *f.maxField < 0 {
		return 0, usagef("--max-field-bytes cannot be negative")
	}
	opts := dataset.Options{Input: splitList(*f.input), Output: splitList(*f.output), Expected: splitList(*f.expected), MaxFieldBytes: *f.maxField}
	if err := opts.Check(); err != nil {
		return 0, usagef("%v", err)
	}
	if !*f.noRedact {
		r, err := redact.New(redact.Config{Presets: redact.PresetNames()})
		if err != nil {
			return 0, err
		}
		opts.Redactor = r
	}
	spans, err := s.spans(ctx, q)
	if err != nil {
		return 0, err
	}
	rows, err := dataset.Rows(spans, opts)
	if err != nil {
		return 0, err
	}
	return len(rows), dataset.Write(w, format, rows)
}

func init() {
	register(&command{
		name:    "export",
		summary: "save the spans matching a filter as a dataset: JSON lines or CSV; --dataset eval: evaluation rows (session, step, input, output, expected output), also Parquet",
		flags:   exportFlags,
	})
}

func exportFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	qf := addSpanQueryFlags(fs, 0)
	format := fs.String("format", query.FormatJSONL, "jsonl (spans as stagetrace JSON lines) or csv (one column per field, finding or --attrs)")
	out := fs.String("o", "-", "the `file` to write; - for standard output")
	raw := fs.Bool("csv-raw", false, "write CSV cells as they are: by default a cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading '")
	ev := addEvalFlags(fs)
	return func([]string) (err error) {
		if *ev.kind != "" && *ev.kind != datasetEval {
			return usagef("bad --dataset %q: want eval", *ev.kind)
		}
		eval := *ev.kind == datasetEval
		switch {
		case eval && *format == dataset.FormatParquet:
		case *format != query.FormatJSONL && *format != query.FormatCSV:
			if eval {
				return usagef("bad --format %q: want jsonl, csv or parquet", *format)
			}
			return usagef("bad --format %q: want jsonl or csv", *format)
		}
		if !eval && ev.given() {
			return usagef("--input, --output, --expected, --max-field-bytes and --no-redact go with --dataset eval")
		}
		if *raw {
			if *format != query.FormatCSV {
				return usagef("--csv-raw goes with --format csv")
			}
			*format = query.FormatCSVRaw
		}
		q, err := qf.query()
		if err != nil {
			return err
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		w := e.stdout
		var f *os.File
		if *out != "-" {
			if f, err = os.Create(*out); err != nil {
				return err
			}
			defer func() {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					// A half-written dataset is worse than none.
					err = errors.Join(err, os.Remove(*out))
				}
			}()
			w = f
		}
		what := "spans"
		var n int
		if eval {
			what = "evaluation rows"
			n, err = ev.export(context.Background(), s, q, *format, w)
		} else {
			n, err = s.export(context.Background(), q, *format, w)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if err := s.hintUnknownFields(context.Background(), "--where", q.Where, e.stderr); err != nil {
				return err
			}
		}
		report := e.stderr
		if f != nil {
			report = e.stdout
		}
		where := "standard output"
		if f != nil {
			where = *out
		}
		_, err = fmt.Fprintf(report, "exported %d %s to %s\n", n, what, where)
		return err
	}
}
