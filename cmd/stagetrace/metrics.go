package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/summary"
)

func init() {
	register(&command{
		name:       "metrics",
		args:       "NAME",
		summary:    "a metric (metric events and numeric findings named NAME) aggregated per step, like NAME --since 1h --step 5m",
		flags:      metricsFlags,
		positional: 1,
	})
}

func metricsFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	since := fs.String("since", "1h", "from `when`: a duration before now (1h, 7d) or a time")
	until := fs.String("until", "", "until `when` (default now): a duration before now or a time")
	step := fs.Duration("step", time.Minute, "aggregate the points of each step of this `duration`, at least 1s")
	instant := fs.Bool("instant", false, "aggregate all the points into one per series, instead of one per step")
	agg := fs.String("agg", string(query.AggAvg), "how points combine: avg, sum, min, max or count")
	by := fs.String("by", "", "comma-separated `labels` to split series by: stage, run_id, name, model, source or a metric attribute")
	var labels listFlag
	fs.Var(&labels, "label", "keep points whose label matches this `matcher`: name=value, name!=value, name=~regexp or name!~regexp (repeatable)")
	return func(args []string) error {
		now := clock()
		if !*instant && *step < time.Second {
			return usagef("bad --step %v: must be at least 1s", *step)
		}
		q := query.MetricQuery{Name: args[0], Step: *step, Instant: *instant, Agg: query.Agg(*agg), By: splitList(*by)}
		var err error
		if q.Since, err = parseWhen("since", *since, now); err != nil {
			return err
		}
		if q.Until, err = parseWhen("until", *until, now); err != nil {
			return err
		}
		if q.Until.IsZero() {
			q.Until = now
		}
		for _, l := range labels {
			m, err := query.ParseLabelMatcher(l)
			if err != nil {
				return usagef("bad --label: %v", err)
			}
			q.Labels = append(q.Labels, m)
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		series, err := s.r.Metrics(context.Background(), q)
		if err != nil {
			return err
		}
		if src.json {
			out := summary.NewSeriesJSON(series)
			return writeJSON(e.stdout, out)
		}
		what := "per " + shortDuration(q.Step)
		if q.Instant {
			what = "over the whole range"
		}
		if q.Agg == "" {
			q.Agg = query.AggAvg
		}
		fmt.Fprintf(e.stdout, "%s: %s %s, from %s to %s\n", q.Name, q.Agg, what, rangeText(q.Since), timeText(q.Until))
		if len(series) == 0 {
			_, err := fmt.Fprintln(e.stdout, "no points")
			return err
		}
		for _, se := range series {
			fmt.Fprintln(e.stdout)
			if len(q.By) > 0 {
				fmt.Fprintln(e.stdout, labelsText(q.By, se.Labels))
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tVALUE\tPOINTS")
			for _, p := range se.Points {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", timeText(p.Time), strconv.FormatFloat(p.Value, 'g', 6, 64), p.Count)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		return nil
	}
}

// shortDuration formats d without zero units: 1h, 30m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func rangeText(t time.Time) string {
	if t.IsZero() {
		return "the first point"
	}
	return timeText(t)
}

// labelsText formats labels as {name="value", ...} in the order of by.
func labelsText(by []string, labels map[string]string) string {
	parts := make([]string, 0, len(by))
	for _, name := range by {
		parts = append(parts, fmt.Sprintf("%s=%q", name, labels[name]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
