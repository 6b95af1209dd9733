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
		name:    "spans",
		summary: "list the spans matching a filter, like --where 'finding.input_tokens>500 and stage=inference'",
		flags:   spansFlags,
	})
}

// spanQueryFlags are the flags spans and export share.
type spanQueryFlags struct {
	where, attrs, orderBy *string
	desc                  *bool
	limit, offset         *int
}

func addSpanQueryFlags(fs *flag.FlagSet, limit int) *spanQueryFlags {
	return &spanQueryFlags{
		where: fs.String("where", "", "only spans matching this `filter`, like 'finding.input_tokens>500 and stage=inference and name~\"^chat\"'"),
		attrs: fs.String("attrs", "", "comma-separated `fields` to show: attributes (key or attr.key) and findings (finding.name); default: the findings"),
		orderBy: fs.String("order-by", "start_time", "sort by this `field`: start_time, end_time, elapsed_ms, name, stage, run_id, status, kind, scope,\n"+
			"trace_id, finding.<name> or attr.<key>"),
		desc:   fs.Bool("desc", false, "sort in descending order"),
		limit:  fs.Int("limit", limit, "at most this many spans (0: all)"),
		offset: fs.Int("offset", 0, "skip this many spans first"),
	}
}

func (f *spanQueryFlags) query() (query.SpanQuery, error) {
	q := query.SpanQuery{OrderBy: *f.orderBy, Desc: *f.desc, Limit: *f.limit, Offset: *f.offset, Attrs: splitList(*f.attrs)}
	if q.Limit < 0 || q.Offset < 0 {
		return q, usagef("--limit and --offset cannot be negative")
	}
	var err error
	q.Where, err = parseWhere(*f.where)
	return q, err
}

func spansFlags(fs *flag.FlagSet, e *env) func([]string) error {
	src := addSourceFlags(fs, true)
	qf := addSpanQueryFlags(fs, 100)
	return func([]string) error {
		q, err := qf.query()
		if err != nil {
			return err
		}
		s, err := src.open(e.stderr)
		if err != nil {
			return err
		}
		defer s.close()
		spans, err := s.spans(context.Background(), q)
		if err != nil {
			return err
		}
		if len(spans) == 0 {
			if err := s.hintUnknownFields(context.Background(), "--where", q.Where, e.stderr); err != nil {
				return err
			}
		}
		if src.json {
			if spans == nil {
				spans = []stagetrace.StageSpan{}
			}
			return writeJSON(e.stdout, spans)
		}
		if len(spans) == 0 {
			_, err := fmt.Fprintln(e.stdout, "no spans")
			return err
		}
		refs := make([]query.Ref, len(q.Attrs))
		header := "START\tRUN\tSTAGE\tSPAN\tELAPSED\tSTATUS"
		for i, a := range q.Attrs {
			refs[i], _ = query.ParseField(a)
			header += "\t" + strings.ToUpper(a)
		}
		if len(q.Attrs) == 0 {
			header += "\tFINDINGS"
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		for i := range spans {
			sp := &spans[i]
			status := sp.Status.String()
			if sp.Status == stagetrace.StatusUnset {
				status = "-"
			}
			line := strings.Join([]string{timeText(sp.StartTime), summary.Safe(sp.RunID), summary.Safe(dash(sp.Stage)),
				summary.Safe(sp.Name), summary.Duration(sp.Elapsed()), status}, "\t")
			for _, ref := range refs {
				v, ok := query.Lookup(sp, ref)
				cell := "-"
				if ok {
					cell = summary.Safe(v.String())
				}
				line += "\t" + cell
			}
			if len(refs) == 0 {
				line += "\t" + summary.Findings(sp.Findings)
			}
			fmt.Fprintln(tw, strings.TrimRight(line, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if q.Limit > 0 && len(spans) == q.Limit {
			_, err := fmt.Fprintf(e.stdout, "(the first %d spans; use --limit and --offset for more)\n", q.Limit)
			return err
		}
		return nil
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
