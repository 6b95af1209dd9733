package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
)

// defaultDB is where make demo and the quickstart write the store.
const defaultDB = "./stagetrace-out/runs.db"

// dbUsage describes --db.
const dbUsage = "the `store` to read: the path of a SQLite file, or a postgres:// URL of a PostgreSQL database"

// pathFlag is a path flag that knows whether it was given.
type pathFlag struct {
	value string
	set   bool
}

func (p *pathFlag) String() string { return p.value }

func (p *pathFlag) Set(s string) error {
	p.value, p.set = s, true
	return nil
}

// sourceFlags are the flags that say where records are read from.
type sourceFlags struct {
	db    pathFlag
	jsonl string
	json  bool
}

// addSourceFlags declares --db, --json and, when the subcommand can read
// one, --jsonl.
func addSourceFlags(fs *flag.FlagSet, withJSONL bool) *sourceFlags {
	f := &sourceFlags{db: pathFlag{value: defaultDB}}
	fs.Var(&f.db, "db", dbUsage)
	if withJSONL {
		fs.StringVar(&f.jsonl, "jsonl", "", "read this JSONL `file` (as the jsonl sink writes it) instead of the store")
	}
	fs.BoolVar(&f.json, "json", false, "write JSON for machines instead of text for people")
	return f
}

// source is where records are read from: a store or a JSONL file, both
// behind the query.Reader.
type source struct {
	r    query.Reader
	path string
}

// open opens the source the flags name. Lines of a JSONL file that do
// not decode are left out with a warning on stderr.
func (f *sourceFlags) open(stderr io.Writer) (*source, error) {
	if f.jsonl != "" {
		if f.db.set {
			return nil, usagef("give --db or --jsonl, not both")
		}
		r, err := openJSONL(f.jsonl)
		if err != nil {
			return nil, err
		}
		warnSkipped(stderr, f.jsonl, r.Skipped())
		return &source{r: r, path: f.jsonl}, nil
	}
	if postgressink.IsURL(f.db.value) {
		st, err := postgressink.OpenReadOnly(context.Background(), f.db.value)
		if err != nil {
			return nil, err
		}
		// The URL's password is never printed.
		return &source{r: st, path: postgressink.Redacted(f.db.value)}, nil
	}
	st, err := openStore(f.db.value)
	if err != nil {
		return nil, err
	}
	return &source{r: st, path: f.db.value}, nil
}

// openStore opens the SQLite store at path for reading. A missing file is
// an error, not a new store.
func openStore(path string) (*sqlitesink.Store, error) {
	st, err := sqlitesink.OpenReadOnly(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no store at %s: run \"make demo\" to write one, or give --db the path of a store", path)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// openJSONL reads every record of a JSONL file into memory.
func openJSONL(path string) (*memquery.Records, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no JSONL file at %s", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := memquery.ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// warnSkipped tells of the lines of JSONL file path that were left out.
func warnSkipped(stderr io.Writer, path string, sk memquery.Skipped) {
	if sk.Lines == 0 {
		return
	}
	what := fmt.Sprintf("%d lines that do not decode were skipped", sk.Lines)
	if sk.Lines == 1 {
		what = "1 line that does not decode was skipped"
	}
	if sk.Torn {
		what += ", the last one torn (cut short mid-write)"
	}
	fmt.Fprintf(stderr, "stagetrace: warning: %s: %s; the first: %s\n", summary.Safe(path), what, summary.Safe(sk.First.Error()))
}

func (s *source) runs(ctx context.Context, f query.RunFilter) ([]stagetrace.Run, error) {
	return s.r.Runs(ctx, f)
}

// sessionRuns returns the runs f selects that belong to the session sf
// names (query.SessionRuns); a bad session filter is a usage error.
func (s *source) sessionRuns(ctx context.Context, f query.RunFilter, sf query.SessionFilter) ([]stagetrace.Run, error) {
	if err := sf.Validate(); err != nil {
		return nil, usagef("%v", err)
	}
	return query.SessionRuns(ctx, s.r, f, sf)
}

// runRecords returns a run's rollup and records, or an error naming the
// run and the source when there is no such run.
func (s *source) runRecords(ctx context.Context, id string) (stagetrace.Run, stagetrace.Batch, error) {
	run, err := s.r.Run(ctx, id)
	if errors.Is(err, query.ErrNotFound) {
		return run, stagetrace.Batch{}, fmt.Errorf("run %q not found in %s", id, s.path)
	}
	if err != nil {
		return run, stagetrace.Batch{}, err
	}
	b, err := s.r.RunRecords(ctx, id)
	return run, b, err
}

func (s *source) spans(ctx context.Context, q query.SpanQuery) ([]stagetrace.StageSpan, error) {
	return s.r.Spans(ctx, q)
}

func (s *source) export(ctx context.Context, q query.SpanQuery, format string, w io.Writer) (int, error) {
	return s.r.ExportSpans(ctx, q, format, w)
}

// logs answers a log query, from a source that holds log events.
func (s *source) logs(ctx context.Context, q query.LogQuery) ([]stagetrace.TraceEvent, error) {
	lr, ok := s.r.(query.LogReader)
	if !ok {
		return nil, fmt.Errorf("%s cannot answer log queries", s.path)
	}
	return lr.Logs(ctx, q)
}

func (s *source) close() error { return s.r.Close() }

// hintUnknownFields tells, on stderr, of each field of where that no
// stored span carries, with the nearest known field: such a filter
// matches nothing, and an empty answer alone reads like an empty store.
// It is called when a query found nothing; flag names the flag where
// came from.
func (s *source) hintUnknownFields(ctx context.Context, flag string, where []query.Filter, stderr io.Writer) error {
	hints, err := query.UnknownFields(ctx, s.r, where)
	if err != nil {
		return err
	}
	for _, h := range hints {
		fmt.Fprintf(stderr, "stagetrace: %s: %s %s: %s\n", summary.Safe(s.path), flag, summary.Safe(h.Field), summary.Safe(h.String()))
	}
	return nil
}

// whereError is a --where that does not parse; its detail shows where.
type whereError struct {
	text string
	err  *query.SyntaxError
}

func (e *whereError) Error() string { return "bad --where: " + e.err.Error() }

// Detail returns the filter with a caret under the mistake.
func (e *whereError) Detail() string {
	return "  " + strings.ReplaceAll(query.Caret(e.text, e.err), "\n", "\n  ")
}

func parseWhere(text string) ([]query.Filter, error) {
	filters, err := query.Parse(text)
	var se *query.SyntaxError
	if errors.As(err, &se) {
		return nil, &whereError{text: text, err: se}
	}
	return filters, err
}

// parseWhen reads a --since or --until: a duration before now (90m, 1h,
// 7d, 1d12h) or a time (RFC 3339, or a date). "" is the zero time.
func parseWhen(flagName, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("bad --%s %q: want a duration like 1h or 7d, or a time like 2024-05-01T10:00:00Z", flagName, s)
}

// parseDuration is time.ParseDuration with days ("7d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, err
		}
		days = time.Duration(n) * 24 * time.Hour
		if s = s[i+1:]; s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 || days < 0 {
		return 0, errors.New("negative duration")
	}
	return days + d, nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// timeText formats a time for tables: UTC, to the millisecond.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }
