package sinktest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
)

// The helpers below check a writer that reuses its batches' arrays on
// tagged spans: span i is named names[i] and has the attributes i and
// tags ([name]), and its event the attribute tags ([name, name]).

// ReadTags is a read function for NewLateSink: the name and first tag of
// each span of b.
func ReadTags(b stagetrace.Batch) []string {
	var read []string
	for _, sp := range b.Spans {
		tags, _ := sp.Attrs.Get("tags")
		read = append(read, sp.Name, tags.AsStringSlice()[0])
	}
	return read
}

// CheckTagged checks that spans and events are the tagged spans named
// names, with their events, in order.
func CheckTagged(t *testing.T, spans []stagetrace.StageSpan, events []stagetrace.TraceEvent, names []string) {
	t.Helper()
	require.Len(t, spans, len(names))
	require.Len(t, events, len(names))
	for i, name := range names {
		assert.Equal(t, name, spans[i].Name)
		n, _ := spans[i].Attrs.Get("i")
		assert.Equal(t, int64(i), n.AsInt64(), "span %d", i)
		tags, _ := spans[i].Attrs.Get("tags")
		assert.Equal(t, []string{name}, tags.AsStringSlice(), "span %d", i)
		tags, _ = events[i].Attrs.Get("tags")
		assert.Equal(t, []string{name, name}, tags.AsStringSlice(), "event %d", i)
	}
}

// CheckReadTags checks what ReadTags read of the tagged spans named names.
func CheckReadTags(t *testing.T, read, names []string) {
	t.Helper()
	require.Len(t, read, 2*len(names))
	for i, name := range names {
		assert.Equal(t, []string{name, name}, read[2*i:2*i+2], "span %d", i)
	}
}
