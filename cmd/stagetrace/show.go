package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/summary"
)

func init() {
	register(&command{
		name:       "show",
		args:       "RUN",
		summary:    "show a run: its spans as a tree, with stage, elapsed time on a timeline, status and findings",
		flags:      showFlags,
		positional: 1,
	})
}

func showFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	width := fs.Int("width", summary.DefaultBarWidth, fmt.Sprintf("width of the timeline, in characters (at most %d)", summary.MaxBarWidth))
	sessionKey := fs.String("session-key", query.DefaultSessionKey, "the `field` naming a run's session, whose runs, tokens and cost are shown after the run")
	color := fs.Bool("color", false, "colour log lines by severity (ANSI), for a terminal")
	return func(args []string) error {
		if *width < 1 || *width > summary.MaxBarWidth {
			return usagef("--width must be from 1 to %d", summary.MaxBarWidth)
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		run, records, err := s.runRecords(context.Background(), args[0])
		if err != nil {
			return err
		}
		sess, err := s.sessionOf(context.Background(), records.Spans, *sessionKey)
		if err != nil {
			return err
		}
		if !src.json {
			if err := summary.WriteTree(e.stdout, run, records, summary.TreeOptions{BarWidth: *width, Color: *color}); err != nil || sess == nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "\nsession %s: %d runs, %d tokens in, %d out, cost %s (stagetrace sessions --session %s)\n",
				summary.Safe(sess.ID), len(sess.Runs), sess.InputTokens, sess.OutputTokens, sessionCost(sess), summary.Safe(sess.ID))
			return err
		}
		out := showJSON{Run: run, Events: records.Events, Session: sess}
		var walk func(n *summary.TreeNode)
		walk = func(n *summary.TreeNode) {
			out.Spans = append(out.Spans, treeSpanJSON{Depth: n.Depth, Span: n.Span})
			for _, c := range n.Children {
				walk(c)
			}
		}
		for _, r := range summary.Tree(records.Spans) {
			walk(r)
		}
		if out.Events == nil {
			out.Events = []stagetrace.TraceEvent{}
		}
		return writeJSON(e.stdout, out)
	}
}

// showJSON is show's --json output: the run, its spans in tree order
// (depth first, children in order of start), its events and its session.
type showJSON struct {
	Run    stagetrace.Run          `json:"run"`
	Spans  []treeSpanJSON          `json:"spans"`
	Events []stagetrace.TraceEvent `json:"events"`
	// Session is the run's session, when it belongs to one.
	Session *query.Session `json:"session,omitempty"`
}

type treeSpanJSON struct {
	Depth int                  `json:"depth"`
	Span  stagetrace.StageSpan `json:"span"`
}
