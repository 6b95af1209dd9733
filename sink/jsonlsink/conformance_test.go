package jsonlsink_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		path := filepath.Join(t.TempDir(), "spans.jsonl")
		s, err := jsonlsink.New(path)
		require.NoError(t, err)
		return sinktest.Harness{
			Sink:               s,
			RefusesDoneContext: true,
			Read: func(t *testing.T) stagetrace.Batch {
				var b stagetrace.Batch
				for _, r := range readRecords(t, path) {
					if r.Span != nil {
						b.Spans = append(b.Spans, *r.Span)
					} else {
						b.Events = append(b.Events, *r.Event)
					}
				}
				return b
			},
			// As a write stuck on a disk that stopped answering: the
			// sink's lock is held until release.
			Stall: func(*testing.T) (<-chan struct{}, func()) {
				stalled := make(chan struct{})
				close(stalled)
				return stalled, s.HoldLock()
			},
		}
	})
}
