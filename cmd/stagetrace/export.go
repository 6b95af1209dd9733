package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/stagetrace/stagetrace/query"
)

func init() {
	register(&command{
		name:    "export",
		summary: "save the spans matching a filter as a dataset: JSON lines or CSV",
		flags:   exportFlags,
	})
}

func exportFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	qf := addSpanQueryFlags(fs, 0)
	format := fs.String("format", query.FormatJSONL, "jsonl (spans as stagetrace JSON lines) or csv (one column per field, finding or --attrs)")
	out := fs.String("o", "-", "the `file` to write; - for standard output")
	raw := fs.Bool("csv-raw", false, "write CSV cells as they are: by default a cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading '")
	return func([]string) (err error) {
		if *format != query.FormatJSONL && *format != query.FormatCSV {
			return usagef("bad --format %q: want jsonl or csv", *format)
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
		n, err := s.export(context.Background(), q, *format, w)
		if err != nil {
			return err
		}
		if n == 0 {
			if err := s.hintUnknownFields(context.Background(), q.Where, e.stderr); err != nil {
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
		_, err = fmt.Fprintf(report, "exported %d spans to %s\n", n, where)
		return err
	}
}
