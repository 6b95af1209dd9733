// Package stagectx keeps the stage of attributes.ContextWithStage in a
// context, together with a mark telling whether a span has opened it yet.
//
// The first span started from a context carrying a mark (or from a context
// derived from it) claims the mark and opens the stage; every later span
// finds the mark claimed and inherits the stage. The mark is shared by all
// contexts derived from the one With returned, so the claim is made once
// per call of With, whatever the goroutine.
package stagectx

import (
	"context"
	"sync/atomic"
)

type key struct{}

// Mark is the stage a context carries and whether a span opened it.
type Mark struct {
	stage  string
	opened atomic.Bool
}

// With returns a copy of ctx that carries stage under a fresh, unclaimed
// mark. An empty stage hides the stage of ctx.
func With(ctx context.Context, stage string) context.Context {
	return context.WithValue(ctx, key{}, &Mark{stage: stage})
}

// Lookup returns the mark ctx carries, or nil. It lets a caller read the
// stage and claim the mark with one context lookup.
func Lookup(ctx context.Context) *Mark {
	m, _ := ctx.Value(key{}).(*Mark)
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
