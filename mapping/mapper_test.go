package mapping

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
)

// The Mapper sizes each Batcher from the batch before, so that the next
// batch's attributes fit in the array allocated at the start.
func TestMapperSizesFromLastBatch(t *testing.T) {
	m := NewMapper(Options{})
	attrs := make(stagetrace.Attrs, 20)
	for i := range attrs {
		attrs[i] = num(string(rune('a'+i)), i)
	}
	for range 2 {
		b := m.Batcher(10)
		for i := range 10 {
			b.Add(&fakeView{name: "s", trace: stagetrace.TraceID{1}, span: stagetrace.SpanID{byte(i + 1)}, attrs: attrs}, nil)
		}
		batch := m.Finish(b, 10)
		require.Len(t, batch.Spans, 10)
	}
	b := m.Batcher(10)
	assert.GreaterOrEqual(t, cap(b.arena), 10*20, "sized for 20 attributes per span")
	assert.Empty(t, m.Finish(b, 0).Spans, "an empty batch leaves the sizing alone")
	assert.GreaterOrEqual(t, cap(m.Batcher(10).arena), 10*20)
}

func TestResourceCacheConvertsOnce(t *testing.T) {
	var c ResourceCache[string]
	calls := 0
	conv := func() *stagetrace.Resource {
		calls++
		return &stagetrace.Resource{Attrs: stagetrace.Attrs{str("service.name", "a")}}
	}
	r1 := c.Get("a", conv)
	r2 := c.Get("a", conv)
	assert.Same(t, r1, r2)
	assert.Equal(t, 1, calls)
	assert.NotSame(t, r1, c.Get("b", conv))
	assert.Equal(t, 2, calls)
}

// A cache that is full starts over rather than growing without bound.
func TestResourceCacheIsBounded(t *testing.T) {
	var c ResourceCache[int]
	for i := range maxResources + 10 {
		c.Get(i, func() *stagetrace.Resource { return &stagetrace.Resource{} })
	}
	assert.LessOrEqual(t, len(c.m), maxResources)
}

func TestResourceCacheConcurrent(t *testing.T) {
	var c ResourceCache[int]
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				r := c.Get(i%300, func() *stagetrace.Resource { return &stagetrace.Resource{} })
				assert.NotNil(t, r, "goroutine %d", g)
			}
		})
	}
	wg.Wait()
}
