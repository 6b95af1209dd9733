package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/report"
	"github.com/stagetrace/stagetrace/summary"
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
	fs.Var(&src.db, "db", dbUsage)
	fs.StringVar(&src.jsonl, "jsonl", "", "read this JSONL `file` (as the jsonl sink writes it) instead of the store")
	out := fs.String("o", defaultReport, "the `file` to write")
	sessionKey := fs.String("session-key", query.DefaultSessionKey, "the `field` naming a run's session, whose runs, tokens and cost the report shows")
	return func(args []string) error {
		if *out == "" || *out == "-" {
			return usagef("-o wants a file name")
		}
		s, err := src.open(e.stderr)
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
		sess, err := s.sessionOf(context.Background(), records.Spans, *sessionKey)
		if err != nil {
			return err
		}
		if sess != nil {
			d.Session = &report.Session{ID: sess.ID, Runs: sess.Runs, Totals: sess.Totals}
		}
		// Metric events among the records are charted by report itself;
		// a stored run has no monitor timeline to add as Data.Series.
		if err := report.WriteFile(*out, d); err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "wrote the report of run %s (%d spans, %d events) to %s\n",
			summary.Safe(args[0]), len(records.Spans), len(records.Events), *out)
		return err
	}
}

// sessionOf returns the session of a run whose spans are spans
// (query.SessionOf); a bad key is a usage error.
func (s *source) sessionOf(ctx context.Context, spans []stagetrace.StageSpan, key string) (*query.Session, error) {
	if err := (query.SessionFilter{Key: key}).Validate(); err != nil {
		return nil, usagef("%v", err)
	}
	return query.SessionOf(ctx, s.r, spans, key)
}
