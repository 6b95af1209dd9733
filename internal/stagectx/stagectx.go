// Package stagectx keeps the run id of attributes.ContextWithRun and the
// stage of attributes.ContextWithStage in a context, together with a mark
// telling whether a span has opened the stage yet.
//
// The first span started from a context carrying a mark (or from a context
// derived from it) claims the mark and opens the stage; every later span
// finds the mark claimed and inherits the stage. The mark is shared by all
// contexts derived from the one With returned, so the claim is made once
// per call of With, whatever the goroutine.
//
// Run and stage are kept in one context value, each call carrying over
// the other's from the context it derives from: a span that starts reads
// both with one walk up the context chain (Get).
package stagectx

import (
	"context"
	"sync/atomic"
)

type key struct{}

// place is the context value: the innermost run id and stage mark.
type place struct {
	run  string
	mark *Mark
}

// stagePlace is a place and its fresh mark, allocated together.
type stagePlace struct {
	place
	m Mark
}

// Mark is the stage a context carries and whether a span opened it.
type Mark struct {
	stage  string
	opened atomic.Bool
}

func lookup(ctx context.Context) *place {
	p, _ := ctx.Value(key{}).(*place)
	return p
}

// With returns a copy of ctx that carries stage under a fresh, unclaimed
// mark, and the run id of ctx. An empty stage hides the stage of ctx.
func With(ctx context.Context, stage string) context.Context {
	sp := &stagePlace{m: Mark{stage: stage}}
	sp.mark = &sp.m
	if outer := lookup(ctx); outer != nil {
		sp.run = outer.run
	}
	return context.WithValue(ctx, key{}, &sp.place)
}

// WithRun returns a copy of ctx that carries run, and the stage mark of
// ctx, shared with it. An empty run hides the run of ctx.
func WithRun(ctx context.Context, run string) context.Context {
	p := &place{run: run}
	if outer := lookup(ctx); outer != nil {
		p.mark = outer.mark
	}
	return context.WithValue(ctx, key{}, p)
}

// Get returns the run id ctx carries ("" for none) and its stage mark
// (nil for none), with one context lookup.
func Get(ctx context.Context) (run string, m *Mark) {
	if p := lookup(ctx); p != nil {
		return p.run, p.mark
	}
	return "", nil
}

// Run returns the run id ctx carries, "" for none.
func Run(ctx context.Context) string {
	run, _ := Get(ctx)
	return run
}

// Lookup returns the mark ctx carries, or nil. It lets a caller read the
// stage and claim the mark with one context lookup.
func Lookup(ctx context.Context) *Mark {
	_, m := Get(ctx)
	return m
}

// From returns the stage ctx carries; ok is false when it carries none or
// an empty one.
func From(ctx context.Context) (stage string, ok bool) {
	s := Lookup(ctx).Stage()
	return s, s != ""
}

// Claim returns the stage ctx carries and reports whether this call
// claimed its mark: true for the first call on a context carrying the
// mark, false for every later one and when ctx carries no stage.
func Claim(ctx context.Context) (stage string, first bool) {
	m := Lookup(ctx)
	return m.Stage(), m.Claim()
}

// Stage returns the stage of m; "" for a nil mark.
func (m *Mark) Stage() string {
	if m == nil {
		return ""
	}
	return m.stage
}

// Opened reports whether the mark was claimed. A nil mark or one with an
// empty stage reports false.
func (m *Mark) Opened() bool {
	return m != nil && m.opened.Load()
}

// Claim claims m and reports whether this call was the first to do so. It
// returns false for a nil mark and for an empty stage, which no span
// opens. Once claimed it costs one atomic load.
func (m *Mark) Claim() bool {
	if m == nil || m.stage == "" || m.opened.Load() {
		return false
	}
	return m.opened.CompareAndSwap(false, true)
}
