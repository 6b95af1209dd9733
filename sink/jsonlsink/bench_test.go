package jsonlsink_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
