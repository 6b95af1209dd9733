package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/usage"
)

// DefaultSessionKey is the field that names a run's session unless told
// otherwise: the session_id finding the rule presets record from
// gen_ai.conversation.id, OpenInference's session.id and the Traceloop
// session association property.
const DefaultSessionKey = attributes.FindingPrefix + attributes.FindingSessionID

// SessionFilter selects sessions: the runs grouped by the value of a
// field (a conversation, a chat thread).
type SessionFilter struct {
	// Key is the field whose string value names a span's session:
	// finding.<name>, attr.<key> or a bare attribute key. Default
	// DefaultSessionKey. A run belongs to the session of its first span
	// (by start) that carries the key.
	Key string
	// ID, when set, keeps that session only.
	ID string
	// Since and Until keep the runs started in [Since, Until); a session
	// is listed with the runs kept. Zero values do not bound.
	Since, Until time.Time
	// Limit is the most sessions returned, 0 for all; Offset skips the
	// first ones.
	Limit, Offset int
}

// Session is a group of runs: what they did together and what it cost.
type Session struct {
	ID string `json:"id"`
	// Runs are the session's runs, newest first.
	Runs  []stagetrace.Run `json:"runs"`
	Start time.Time        `json:"start"`
	End   time.Time        `json:"end"`
	// Spans and Errors add up the runs'.
	Spans  int `json:"spans"`
	Errors int `json:"errors"`
	// Totals are the runs' tokens and cost added up, by the one
	// accounting's rules (exact, never across currencies).
	usage.Totals
}

// key returns the field f groups by.
func (f SessionFilter) key() string { return cmp.Or(f.Key, DefaultSessionKey) }

// Validate reports whether f can be evaluated.
func (f SessionFilter) Validate() error {
	ref, err := ParseField(f.key())
	if err != nil {
		return fmt.Errorf("session key: %w", err)
	}
	if ref.Source == SourceBuiltin {
		return fmt.Errorf("session key %q is a built-in field: give a finding (finding.<name>) or an attribute", f.key())
	}
	if f.Limit < 0 || f.Offset < 0 {
		return errors.New("limit and offset cannot be negative")
	}
	return nil
}

// Sessions returns the sessions of the runs r holds, newest first (by
// their latest run's start), each with its runs and totals.
func Sessions(ctx context.Context, r Reader, f SessionFilter) ([]Session, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	key := f.key()
	ref, _ := ParseField(key)
	where := []Filter{{Field: key, Op: OpExists}}
	if f.ID != "" {
		where = []Filter{{Field: key, Op: OpEq, Value: stagetrace.StringValue(f.ID)}}
	}
	spans, err := r.Spans(ctx, SpanQuery{Where: where, Attrs: []string{key}, OrderBy: FieldStartTime})
	if err != nil {
		return nil, err
	}
	sessionOf := map[string]string{} // run → session
	var order []string
	for i := range spans {
		if _, ok := sessionOf[spans[i].RunID]; ok {
			continue
		}
		v, ok := Lookup(&spans[i], ref)
		if !ok {
			continue
		}
		id := v.String()
		if v.Kind() == stagetrace.KindString {
			id = v.AsString()
		}
		if id == "" {
			continue
		}
		sessionOf[spans[i].RunID] = id
		order = append(order, spans[i].RunID)
	}
	byID := map[string]*Session{}
	for _, runID := range order {
		run, err := r.Run(ctx, runID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !f.Since.IsZero() && run.Start.Before(f.Since) || !f.Until.IsZero() && !run.Start.Before(f.Until) {
			continue
		}
		id := sessionOf[runID]
		s := byID[id]
		if s == nil {
			s = &Session{ID: id, Start: run.Start, End: run.End}
			byID[id] = s
		}
		s.add(run)
	}
	out := make([]Session, 0, len(byID))
	for _, s := range byID {
		usage.SortRuns(s.Runs)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Session) int {
		return cmp.Or(b.Runs[0].Start.Compare(a.Runs[0].Start), strings.Compare(a.ID, b.ID))
	})
	if f.Offset >= len(out) {
		return []Session{}, nil
	}
	out = out[f.Offset:]
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *Session) add(run stagetrace.Run) {
	s.Runs = append(s.Runs, run)
	if run.Start.Before(s.Start) {
		s.Start = run.Start
	}
	if run.End.After(s.End) {
		s.End = run.End
	}
	s.Spans += run.Spans
	s.Errors += run.Errors
	t := usage.RunTotals(run)
	s.Merge(&t)
}

// SessionOf returns the session of a run whose spans are spans: named by
// the first of them (by start) carrying key, as Sessions places
// runs; nil when none does.
func SessionOf(ctx context.Context, r Reader, spans []stagetrace.StageSpan, key string) (*Session, error) {
	f := SessionFilter{Key: key}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ref, _ := ParseField(key)
	byStart := slices.Clone(spans)
	slices.SortStableFunc(byStart, func(a, b stagetrace.StageSpan) int { return a.StartTime.Compare(b.StartTime) })
	for i := range byStart {
		v, ok := Lookup(&byStart[i], ref)
		if !ok {
			continue
		}
		if f.ID = v.String(); v.Kind() == stagetrace.KindString {
			f.ID = v.AsString()
		}
		if f.ID != "" {
			break
		}
	}
	if f.ID == "" {
		return nil, nil
	}
	sessions, err := Sessions(ctx, r, f)
	if err != nil || len(sessions) == 0 {
		return nil, err
	}
	return &sessions[0], nil
}

// SessionRuns returns the runs f selects that belong to the session sf
// names, newest first, f's limit and offset applied to them.
func SessionRuns(ctx context.Context, r Reader, f RunFilter, sf SessionFilter) ([]stagetrace.Run, error) {
	if err := sf.Validate(); err != nil {
		return nil, err
	}
	sessions, err := Sessions(ctx, r, sf)
	if err != nil || len(sessions) == 0 {
		return nil, err
	}
	in := make(map[string]bool, len(sessions[0].Runs))
	for _, run := range sessions[0].Runs {
		in[run.ID] = true
	}
	limit, offset := f.Limit, f.Offset
	f.Limit, f.Offset = 0, 0
	all, err := r.Runs(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []stagetrace.Run
	for _, run := range all {
		if in[run.ID] {
			out = append(out, run)
		}
	}
	if offset >= len(out) {
		return nil, nil
	}
	out = out[offset:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
