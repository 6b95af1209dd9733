package stagectx

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrom(t *testing.T) {
	s, ok := From(context.Background())
	assert.False(t, ok)
	assert.Empty(t, s)

	ctx := With(context.Background(), "retrieval")
	s, ok = From(ctx)
	assert.True(t, ok)
	assert.Equal(t, "retrieval", s)

	s, ok = From(With(ctx, ""))
	assert.False(t, ok, "an empty stage hides the outer one")
	assert.Empty(t, s)
}

type otherKey struct{}

func TestClaimFirstOnly(t *testing.T) {
	ctx := With(context.Background(), "retrieval")
	derived := context.WithValue(ctx, otherKey{}, 1)

	s, first := Claim(derived)
	assert.Equal(t, "retrieval", s)
	assert.True(t, first, "the first claim, from a derived context, opens the stage")

	s, first = Claim(ctx)
	assert.Equal(t, "retrieval", s)
	assert.False(t, first, "the mark is shared with derived contexts")

	s, first = Claim(With(ctx, "retrieval"))
	assert.Equal(t, "retrieval", s)
	assert.True(t, first, "each With makes a fresh mark")
}

func TestClaimWithoutStage(t *testing.T) {
	s, first := Claim(context.Background())
	assert.Empty(t, s)
	assert.False(t, first)

	s, first = Claim(With(context.Background(), ""))
	assert.Empty(t, s)
	assert.False(t, first, "an empty stage is never opened")

	var m *Mark
	assert.False(t, m.Claim())
	assert.False(t, m.Opened())
	assert.Empty(t, m.Stage())
}

func TestClaimConcurrent(t *testing.T) {
	ctx := With(context.Background(), "s")
	m := Lookup(ctx)
	require.NotNil(t, m)
	require.False(t, m.Opened())

	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, first := Claim(ctx); first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), firsts.Load(), "exactly one claim wins")
	assert.True(t, m.Opened())
}

func TestRunBesideStage(t *testing.T) {
	run, m := Get(context.Background())
	assert.Empty(t, run)
	assert.Nil(t, m)

	ctx := WithRun(context.Background(), "r-1")
	run, m = Get(ctx)
	assert.Equal(t, "r-1", run)
	assert.Nil(t, m, "a run alone carries no stage")

	staged := With(ctx, "retrieval")
	run, m = Get(staged)
	assert.Equal(t, "r-1", run, "With keeps the run of the context it derives from")
	assert.Equal(t, "retrieval", m.Stage())

	rerun := WithRun(context.WithValue(staged, otherKey{}, 1), "r-2")
	run, m2 := Get(rerun)
	assert.Equal(t, "r-2", run, "the innermost run wins")
	assert.Same(t, m, m2, "WithRun keeps the stage's mark, shared with the context it derives from")
	assert.True(t, m2.Claim())
	assert.False(t, Lookup(staged).Claim(), "claimed through the derived context")

	assert.Equal(t, "r-1", Run(staged), "the outer context is unchanged")
	assert.Empty(t, Run(WithRun(staged, "")), "an empty run hides the outer one")
	assert.Equal(t, "retrieval", Lookup(WithRun(staged, "")).Stage())
	hidden := With(rerun, "")
	assert.Equal(t, "r-2", Run(hidden))
	assert.Empty(t, Lookup(hidden).Stage(), "an empty stage hides the outer one")
}
