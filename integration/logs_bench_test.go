package integration

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/logtest"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// emittedRecords returns n records as the SDK hands them to an exporter,
// placed by the log processor: a warning with a string body, run and
// stage, and three attributes of a slog call.
func emittedRecords(tb testing.TB, n int) []sdklog.Record {
	tb.Helper()
	keep := &logtest.Recorder{}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "bench"))),
		sdklog.WithProcessor(logexporter.NewProcessor(nil)),
		sdklog.WithProcessor(keep),
	)
	logger := lp.Logger("bench/llm")
	ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "r-42"), "inference")
	for i := range n {
		var r log.Record
		r.SetSeverity(log.SeverityWarn)
		r.SetSeverityText("WARN")
		r.SetBody(attribute.StringValue("rate limited: retrying"))
		r.AddAttributes(attribute.Int("retry_after_ms", 20), attribute.Int("attempt", i), attribute.String("gen_ai.request.model", "gpt-4o"))
		logger.Emit(ctx, r)
	}
	require.NoError(tb, lp.Shutdown(context.Background()))
	require.Len(tb, keep.Records(), n)
	return keep.Records()
}

// BenchmarkLogExport512 compares the log exporter writing batches of 512
// records to a JSONL file with the Logs SDK's stdoutlog exporter writing
// the same records to io.Discard. The ratio of the two ns/record is what
// BENCHMARKS.md records.
func BenchmarkLogExport512(b *testing.B) {
	records := emittedRecords(b, 512)
	b.Run("stagetrace-jsonl", func(b *testing.B) {
		sink, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
		require.NoError(b, err)
		exp, err := logexporter.New(logexporter.WithSinks(sink))
		require.NoError(b, err)
		benchLogExport(b, exp, records)
	})
	b.Run("stdoutlog-discard", func(b *testing.B) {
		exp, err := stdoutlog.New(stdoutlog.WithWriter(io.Discard))
		require.NoError(b, err)
		benchLogExport(b, exp, records)
	})
}

func benchLogExport(b *testing.B, exp sdklog.Exporter, records []sdklog.Record) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := exp.Export(ctx, records); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(records)), "ns/record")
	require.NoError(b, exp.Shutdown(ctx))
}

// BenchmarkLogExportPaired is the paired form of BenchmarkLogExport512,
// the figure BENCHMARKS.md records: the log exporter writing batches of
// 512 records to a JSONL file and stdoutlog encoding the same batches to
// io.Discard, in turn, round after round (internal/benchpair).
// "stdoutlog/stagetrace" is stdoutlog's time per record over ours, the
// speed-up (goal: at least 10).
func BenchmarkLogExportPaired(b *testing.B) {
	records := emittedRecords(b, 512)
	sink, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
	require.NoError(b, err)
	ours, err := logexporter.New(logexporter.WithSinks(sink))
	require.NoError(b, err)
	std, err := stdoutlog.New(stdoutlog.WithWriter(io.Discard))
	require.NoError(b, err)
	// Our side exports the batch 8 times a round, stdoutlog once: each
	// side then runs some milliseconds, its share of garbage collection
	// included.
	exps := []sdklog.Exporter{ours, std}
	batches := [][][]sdklog.Record{
		{records, records, records, records, records, records, records, records},
		{records},
	}
	units := []int{8 * len(records), len(records)}
	names := []string{"stagetrace", "stdoutlog"}
	ctx := context.Background()
	pairedRounds(b, names, units, "record", func(i int) error {
		for _, batch := range batches[i] {
			if err := exps[i].Export(ctx, batch); err != nil {
				return err
			}
		}
		return nil
	})
	for _, exp := range exps {
		require.NoError(b, exp.Shutdown(ctx))
	}
}
