package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/report"
)

func init() {
	register(&command{
		name:       "report",
		args:       "RUN",
		summary:    "write a run as one self-contained HTML file: waterfall, stages, findings, tokens, metrics, alerts",
		flags:      reportFlags,
		positional: 1,
	})
}

// defaultReport is where report writes when -o is not given.
const defaultReport = "report.html"

func reportFlags(fs *flag.FlagSet, e *env) func([]string) error {
	// The source flags without --json: the output is HTML.
	src := &sourceFlags{db: pathFlag{value: defaultDB}}
	fs.Var(&src.db, "db", "the `path` of the SQLite store to read")
	fs.StringVar(&src.jsonl, "jsonl", "", "read this JSONL `file` (as the jsonl sink writes it) instead of the store")
	out := fs.String("o", defaultReport, "the `file` to write")
	return func(args []string) error {
		if *out == "" || *out == "-" {
			return usagef("-o wants a file name")
		}
		s, err := src.open()
		if err != nil {
			return err
		}
		defer s.close()
		// Read everything before creating anything: an unknown run leaves
		// no file behind.
		_, records, err := s.runRecords(context.Background(), args[0])
		if err != nil {
			return err
		}
		d := report.FromRecords(records.Spans, records.Events)
		d.RunID = args[0]
		d.Generated = clock()
		usage := monitor.UsageOf(records.Spans)
		d.Tokens = &usage
		// Metric events among the records are charted by report itself;
		// a stored run has no monitor timeline to add as Data.Series.
		if err := writeReport(*out, d); err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "wrote the report of run %s (%d spans, %d events) to %s\n",
			args[0], len(records.Spans), len(records.Events), *out)
		return err
	}
}

// writeReport writes the report of d to path atomically: to a temporary
// file in the same directory, renamed over path once complete, so that
// path is either the old file or the whole new report.
func writeReport(path string, d report.Data) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		// The error names the temporary file; name the one asked for.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			err = errors.Join(err, os.Remove(f.Name()))
		}
	}()
	if err = report.Write(f, d); err != nil {
		return err
	}
	// CreateTemp makes the file private; a report is for reading.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
