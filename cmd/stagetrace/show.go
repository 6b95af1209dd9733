package main

import (
	"context"
	"flag"
	"fmt"

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
		out := summary.NewRunJSON(run, records, sess)
		return writeJSON(e.stdout, out)
	}
}
