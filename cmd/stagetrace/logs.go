package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/summary"
)

func init() {
	register(&command{
		name:       "logs",
		args:       "[RUN]",
		summary:    "list log events, of one run or all, like --where 'severity>=warn' (levels: verbose debug info warn error critical)",
		flags:      logsFlags,
		positional: 1,
		optional:   true,
	})
}

func logsFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	where := fs.String("where", "", "only log events matching this `filter`: severity (compared in level order), severity_number, severity_text,\n"+
		"body (the body as text), run_id, stage, trace_id or an attribute, like 'severity>=warn and body~\"timeout\"'")
	limit := fs.Int("limit", 100, "at most this many events, the latest (0: all)")
	return func(args []string) error {
		if *limit < 0 {
			return usagef("--limit cannot be negative")
		}
		q := query.LogQuery{Limit: *limit}
		if len(args) == 1 {
			q.Run = args[0]
		}
		var err error
		if q.Where, err = parseWhere(*where); err != nil {
			return err
		}
		if err := query.CheckLogFilters(q.Where); err != nil {
			return fmt.Errorf("bad --where: %w", err)
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		logs, err := s.logs(context.Background(), q)
		if err != nil {
			return err
		}
		if src.json {
			if logs == nil {
				logs = []stagetrace.TraceEvent{}
			}
			return writeJSON(e.stdout, logs)
		}
		if len(logs) == 0 {
			what := "no log events"
			if q.Run != "" {
				what += " in run " + summary.Safe(q.Run)
			}
			_, err := fmt.Fprintln(e.stdout, what)
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tRUN\tSTAGE\tSEVERITY\tBODY\tATTRIBUTES")
		for i := range logs {
			l := &logs[i]
			fmt.Fprintln(tw, strings.TrimRight(strings.Join([]string{
				timeText(l.Time), summary.Safe(dash(l.RunID)), summary.Safe(dash(l.Stage)),
				summary.Severity(l.Severity), summary.Safe(summary.Cut(l.Body.String(), summary.MaxLogBody)), summary.Findings(l.Attrs),
			}, "\t"), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if q.Limit > 0 && len(logs) == q.Limit {
			_, err := fmt.Fprintf(e.stdout, "(the latest %d log events; use --limit for more)\n", q.Limit)
			return err
		}
		return nil
	}
}
