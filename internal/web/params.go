package web

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// Bounds of the page size a URL may ask for.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// runsParams are the runs list's URL parameters.
type runsParams struct {
	Where, Status, Since, Sort string
	// Session keeps the runs of one session (query.DefaultSessionKey).
	Session       string
	Desc          bool
	Limit, Offset int
	filter        query.RunFilter
}

// sortKeys are the columns the runs list sorts by; "" keeps the store's
// order, newest first.
var sortKeys = map[string]func(a, b stagetrace.Run) int{
	"start":    func(a, b stagetrace.Run) int { return a.Start.Compare(b.Start) },
	"duration": func(a, b stagetrace.Run) int { return cmp.Compare(a.Duration(), b.Duration()) },
	"spans":    func(a, b stagetrace.Run) int { return cmp.Compare(a.Spans, b.Spans) },
	"errors":   func(a, b stagetrace.Run) int { return cmp.Compare(a.Errors, b.Errors) },
	"tokens": func(a, b stagetrace.Run) int {
		return cmp.Compare(a.InputTokens+a.OutputTokens, b.InputTokens+b.OutputTokens)
	},
	"cost": func(a, b stagetrace.Run) int { return cmp.Compare(a.Cost, b.Cost) },
}

// parseRuns reads the runs list's parameters from q. The filter is
// parsed by the query language; its values reach the store as bound
// parameters only.
func parseRuns(q url.Values, now time.Time) (runsParams, error) {
	p := runsParams{Where: q.Get("where"), Status: q.Get("status"), Since: q.Get("since"), Sort: q.Get("sort"), Desc: q.Get("desc") == "1", Session: q.Get("session")}
	var err error
	if p.Limit, p.Offset, err = pageParams(q); err != nil {
		return p, err
	}
	if p.Sort != "" && sortKeys[p.Sort] == nil {
		return p, fmt.Errorf("unknown sort %q: want start, duration, spans, errors, tokens or cost", p.Sort)
	}
	p.filter = query.RunFilter{Status: p.Status, Limit: p.Limit, Offset: p.Offset}
	if p.Since != "" {
		d, err := time.ParseDuration(p.Since)
		if err != nil || d <= 0 {
			return p, fmt.Errorf("bad since %q: want a duration like 15m or 24h", p.Since)
		}
		p.filter.Since = now.Add(-d)
	}
	if p.filter.Where, err = query.Parse(p.Where); err != nil {
		return p, fmt.Errorf("bad filter: %w", err)
	}
	if err := p.filter.Validate(); err != nil {
		return p, err
	}
	return p, nil
}

// sortRuns sorts a page of runs as p asks.
func (p runsParams) sortRuns(runs []stagetrace.Run) {
	f := sortKeys[p.Sort]
	if f == nil {
		return
	}
	slices.SortStableFunc(runs, func(a, b stagetrace.Run) int {
		if p.Desc {
			return f(b, a)
		}
		return f(a, b)
	})
}

// query returns the parameters as a URL query, with offset replaced.
func (p runsParams) query(offset int) string {
	v := url.Values{}
	for k, s := range map[string]string{"where": p.Where, "status": p.Status, "since": p.Since, "sort": p.Sort, "session": p.Session} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if p.Desc {
		v.Set("desc", "1")
	}
	if p.Limit != defaultLimit {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return v.Encode()
}

// spansParams are the span search's URL parameters.
type spansParams struct {
	Where         string
	Limit, Offset int
	q             query.SpanQuery
}

func parseSpans(q url.Values) (spansParams, error) {
	p := spansParams{Where: q.Get("where")}
	var err error
	if p.Limit, p.Offset, err = pageParams(q); err != nil {
		return p, err
	}
	p.q = query.SpanQuery{Limit: p.Limit, Offset: p.Offset, Desc: true}
	if p.q.Where, err = query.Parse(p.Where); err != nil {
		return p, fmt.Errorf("bad filter: %w", err)
	}
	return p, query.ValidateAll(p.q.Where)
}

// pageParams reads a page's limit (1 to maxLimit, default defaultLimit)
// and offset.
func pageParams(q url.Values) (limit, offset int, err error) {
	if limit, err = intParam(q, "limit", defaultLimit); err != nil {
		return 0, 0, err
	}
	if offset, err = intParam(q, "offset", 0); err != nil {
		return 0, 0, err
	}
	if limit < 1 || limit > maxLimit {
		return 0, 0, fmt.Errorf("limit must be from 1 to %d", maxLimit)
	}
	return limit, offset, nil
}

func intParam(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad %s %q: want a whole number, 0 or more", name, s)
	}
	return n, nil
}

// sessionsParams are the sessions list's URL parameters.
type sessionsParams struct {
	Since         string
	Limit, Offset int
	f             query.SessionFilter
}

func parseSessions(q url.Values, now time.Time) (sessionsParams, error) {
	p := sessionsParams{Since: q.Get("since")}
	var err error
	if p.Limit, p.Offset, err = pageParams(q); err != nil {
		return p, err
	}
	p.f = query.SessionFilter{Key: query.DefaultSessionKey, ID: q.Get("session"), Limit: p.Limit, Offset: p.Offset}
	if p.Since != "" {
		d, err := time.ParseDuration(p.Since)
		if err != nil || d <= 0 {
			return p, fmt.Errorf("bad since %q: want a duration like 15m or 24h", p.Since)
		}
		p.f.Since = now.Add(-d)
	}
	return p, p.f.Validate()
}

// metricsParams are the metric chart's URL parameters, as the metrics
// subcommand's flags.
type metricsParams struct {
	Name, Since, Step, Agg, By string
	q                          query.MetricQuery
}

func parseMetrics(q url.Values, now time.Time) (metricsParams, error) {
	p := metricsParams{Name: q.Get("name"), Since: cmp.Or(q.Get("since"), "1h"), Step: cmp.Or(q.Get("step"), "1m"), Agg: cmp.Or(q.Get("agg"), string(query.AggAvg)), By: q.Get("by")}
	since, err := time.ParseDuration(p.Since)
	if err != nil || since <= 0 {
		return p, fmt.Errorf("bad since %q: want a duration like 15m or 24h", p.Since)
	}
	step, err := time.ParseDuration(p.Step)
	if err != nil || step < time.Second {
		return p, fmt.Errorf("bad step %q: want a duration of at least 1s", p.Step)
	}
	p.q = query.MetricQuery{Name: p.Name, Since: now.Add(-since), Until: now, Step: step, Agg: query.Agg(p.Agg)}
	for _, l := range strings.Split(p.By, ",") {
		if l = strings.TrimSpace(l); l != "" {
			p.q.By = append(p.q.By, l)
		}
	}
	if p.Name == "" {
		return p, nil
	}
	return p, p.q.Normalize(now)
}
