package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/summary"
)

func init() {
	register(&command{
		name:    "sessions",
		summary: "list sessions (runs grouped by conversation), newest first: runs, spans, errors, tokens, cost; --session ID lists one's runs",
		flags:   sessionsFlags,
	})
}

// sessionFlags are the flags that name a session: sessions and runs share
// them.
type sessionFlags struct {
	id, key *string
}

func addSessionFlags(fs *flag.FlagSet, what string) *sessionFlags {
	return &sessionFlags{
		id: fs.String("session", "", what),
		key: fs.String("session-key", query.DefaultSessionKey, "the `field` naming a run's session: a finding (finding.name) or an attribute key;\n"+
			"the default is the finding the rule presets record from gen_ai.conversation.id, session.id\n"+
			"and the Traceloop session property"),
	}
}

func sessionsFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	sf := addSessionFlags(fs, "only the session `ID`, with its runs")
	since := fs.String("since", "", "only runs started since `when`: a duration before now (1h, 7d) or a time")
	until := fs.String("until", "", "only runs started before `when`: a duration before now or a time")
	limit := fs.Int("limit", 50, "list at most this many sessions (0: all)")
	offset := fs.Int("offset", 0, "skip this many sessions first")
	return func([]string) error {
		now := clock()
		f := query.SessionFilter{Key: *sf.key, ID: *sf.id, Limit: *limit, Offset: *offset}
		var err error
		if f.Since, err = parseWhen("since", *since, now); err != nil {
			return err
		}
		if f.Until, err = parseWhen("until", *until, now); err != nil {
			return err
		}
		if err := f.Validate(); err != nil {
			return usagef("%v", err)
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		ctx := context.Background()
		sessions, err := query.Sessions(ctx, s.r, f)
		if err != nil {
			return err
		}
		if len(sessions) == 0 {
			if err := s.hintUnknownFields(ctx, "--session-key", []query.Filter{{Field: f.Key, Op: query.OpExists}}, e.stderr); err != nil {
				return err
			}
		}
		if src.json {
			return writeJSON(e.stdout, sessions)
		}
		if len(sessions) == 0 {
			_, err := fmt.Fprintln(e.stdout, "no sessions")
			return err
		}
		if f.ID != "" {
			return writeSession(e.stdout, &sessions[0])
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SESSION\tSTART\tDURATION\tRUNS\tSPANS\tERRORS\tTOKENS IN\tTOKENS OUT\tCOST")
		for i := range sessions {
			ss := &sessions[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", summary.Safe(ss.ID), timeText(ss.Start), summary.Duration(ss.End.Sub(ss.Start)),
				len(ss.Runs), ss.Spans, ss.Errors, ss.InputTokens, ss.OutputTokens, sessionCost(ss))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if *limit > 0 && len(sessions) == *limit {
			_, err := fmt.Fprintf(e.stdout, "(the first %d sessions; use --limit and --offset for more)\n", *limit)
			return err
		}
		return nil
	}
}

// sessionCost prints a session's cost as a run's is printed.
func sessionCost(s *query.Session) string { return summary.TotalsCost(&s.Totals) }

// writeSession prints one session: its totals, then its runs.
func writeSession(w io.Writer, s *query.Session) error {
	fmt.Fprintf(w, "session %s: %d runs, %d spans, %d errors, %d tokens in, %d out, cost %s\n\n",
		summary.Safe(s.ID), len(s.Runs), s.Spans, s.Errors, s.InputTokens, s.OutputTokens, sessionCost(s))
	return writeRuns(w, s.Runs)
}
