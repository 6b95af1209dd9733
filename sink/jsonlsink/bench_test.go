package jsonlsink_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// BenchmarkWrite512 writes batches of 512 realistic spans (8 attributes of
// mixed kinds, 2 findings, one shared resource) to a file.
func BenchmarkWrite512(b *testing.B) {
	ctx := context.Background()
	batch := testBatch("run-bench", "span", 512, 0)
	for i := range batch.Spans {
		batch.Spans[i].Name = fmt.Sprintf("stage step %03d", i)
	}
	s, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
	require.NoError(b, err)
	defer s.Shutdown(ctx)

	b.SetBytes(int64(encodedSize(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePreallocated writes the batches of BenchmarkWrite512 to two
// files in turn, one sink reserving blocks ahead ([jsonlsink.DefaultPreallocate])
// and one not (WithPreallocate(0)): "prealloc/none" is the first's time
// per span over the second's, paired (see internal/benchpair). Each round
// writes 8 batches, about 4 MB, to each file.
func BenchmarkWritePreallocated(b *testing.B) {
	ctx := context.Background()
	batch := testBatch("run-bench", "span", 512, 0)
	for i := range batch.Spans {
		batch.Spans[i].Name = fmt.Sprintf("stage step %03d", i)
	}
	dir := b.TempDir()
	var sinks []*jsonlsink.Sink
	for _, opt := range []jsonlsink.Option{jsonlsink.WithPreallocate(0), nil} {
		s, err := jsonlsink.New(filepath.Join(dir, fmt.Sprintf("runs-%d.jsonl", len(sinks))), opt)
		require.NoError(b, err)
		defer s.Shutdown(ctx)
		sinks = append(sinks, s)
	}
	const writes = 8
	rounds := benchpair.New([]string{"none", "prealloc"}, []int{writes * 512, writes * 512})
	round := 0
	for b.Loop() {
		for _, i := range benchpair.Order(2, round) {
			rounds.Time(i, func() {
				for range writes {
					if err := sinks[i].Write(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		round++
	}
	rounds.Report(b, "span", 0)
}
