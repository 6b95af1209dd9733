package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
)

func init() {
	register(&command{
		name:    "runs",
		summary: "list runs, newest first: start, duration, stages, spans, errors, tokens, cost",
		flags:   runsFlags,
	})
}

func runsFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	since := fs.String("since", "", "only runs started since `when`: a duration before now (1h, 7d) or a time")
	until := fs.String("until", "", "only runs started before `when`: a duration before now or a time")
	status := fs.String("status", "", "only runs with this `status`: ok or error")
	where := fs.String("where", "", "only runs with a span matching this `filter`, like 'finding.input_tokens>500'")
	limit := fs.Int("limit", 50, "list at most this many runs (0: all)")
	offset := fs.Int("offset", 0, "skip this many runs first")
	sf := addSessionFlags(fs, "only the runs of the session `ID` (see stagetrace sessions)")
	return func([]string) error {
		now := clock()
		f := sqlitesink.RunFilter{Status: *status, Limit: *limit, Offset: *offset}
		var err error
		if f.Since, err = parseWhen("since", *since, now); err != nil {
			return err
		}
		if f.Until, err = parseWhen("until", *until, now); err != nil {
			return err
		}
		if *status != "" && *status != "ok" && *status != "error" {
			return usagef("bad --status %q: want ok or error", *status)
		}
		if *limit < 0 || *offset < 0 {
			return usagef("--limit and --offset cannot be negative")
		}
		if f.Where, err = parseWhere(*where); err != nil {
			return err
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		var runs []stagetrace.Run
		if *sf.id != "" {
			runs, err = s.sessionRuns(context.Background(), f, query.SessionFilter{Key: *sf.key, ID: *sf.id})
		} else {
			runs, err = s.runs(context.Background(), f)
		}
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			where := f.Where
			if *sf.id != "" {
				where = append(where[:len(where):len(where)], query.Filter{Field: *sf.key, Op: query.OpExists})
			}
			if err := s.hintUnknownFields(context.Background(), "--where", where, e.stderr); err != nil {
				return err
			}
		}
		if src.json {
			if runs == nil {
				runs = []stagetrace.Run{}
			}
			return writeJSON(e.stdout, runs)
		}
		if len(runs) == 0 {
			_, err := fmt.Fprintln(e.stdout, "no runs")
			return err
		}
		if err := writeRuns(e.stdout, runs); err != nil {
			return err
		}
		if *limit > 0 && len(runs) == *limit {
			_, err := fmt.Fprintf(e.stdout, "(the first %d runs; use --limit and --offset for more)\n", *limit)
			return err
		}
		return nil
	}
}

// writeRuns prints runs as a table.
func writeRuns(w io.Writer, runs []stagetrace.Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTART\tDURATION\tSTAGES\tSPANS\tERRORS\tTOKENS IN\tTOKENS OUT\tCOST")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", summary.Safe(r.ID), timeText(r.Start), summary.Duration(r.Duration()),
			r.Stages, r.Spans, r.Errors, r.InputTokens, r.OutputTokens, summary.RunCost(r))
	}
	return tw.Flush()
}
