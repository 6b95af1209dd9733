// Package reliability holds stagetrace's delivery guarantees as tests: a
// million spans through the whole pipeline, an ingest endpoint that is
// down for a while, a writer killed with SIGKILL in the middle of a write,
// a sink that never returns, a full disk, and hostile input: values nested
// past the depth limit, YAML alias bombs, writers sharing a JSONL file.
//
// Without the reliability build tag each test runs in a reduced, bounded
// form (see scale_reduced_test.go), so that go test -race ./... stays
// short. The full suite, whose figures RELIABILITY.md records, runs with
//
//	go test -tags reliability -count=1 -timeout 30m -v ./reliability/
//
// Set STAGETRACE_FIGURES to a file name to collect the figures the tests
// measure there, one line each, besides the test log.
package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/processor"
)

func TestMain(m *testing.M) {
	if os.Getenv(writerEnv) != "" {
		// A helper process: it is killed with SIGKILL, so there is nothing
		// to verify when it ends.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

// size returns the full-suite value under the reliability tag, the reduced
// one otherwise.
func size[T any](fullValue, reduced T) T {
	if full {
		return fullValue
	}
	return reduced
}

// figure logs a measured figure and, when STAGETRACE_FIGURES names a file,
// appends it there.
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf("%s: %s", t.Name(), fmt.Sprintf(format, args...))
	t.Log("FIGURE " + line)
	path := os.Getenv("STAGETRACE_FIGURES")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	defer f.Close()
	mode := "reduced"
	if full {
		mode = "full"
	}
	_, err = fmt.Fprintf(f, "[%s] %s\n", mode, line)
	require.NoError(t, err)
}

// newProvider returns a TracerProvider set up as users do: the processor,
// then a BatchSpanProcessor that blocks rather than drops when its queue
// is full, so that any loss is the sinks' and can be counted.
func newProvider(exp sdktrace.SpanExporter, opts ...sdktrace.BatchSpanProcessorOption) *sdktrace.TracerProvider {
	opts = append([]sdktrace.BatchSpanProcessorOption{sdktrace.WithBlocking()}, opts...)
	return sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(processor.New()),
		sdktrace.WithBatcher(exp, opts...),
	)
}

// spanAttrs are the attributes of every generated span, the shape of an
// LLM call.
var spanAttrs = []attribute.KeyValue{
	attribute.String("gen_ai.request.model", "gpt-4o"),
	attribute.String("gen_ai.operation.name", "chat"),
	attribute.Float64("llm.temperature", 0.2),
	attribute.Int("gen_ai.usage.input_tokens", 812),
	attribute.Int("gen_ai.usage.output_tokens", 95),
	attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}),
}

// scanJSONL decodes every line of the file at path, failing the test on a
// line that does not parse, and calls f for each record.
func scanJSONL(t *testing.T, path string, f func(stagetrace.Record)) {
	t.Helper()
	file, err := os.Open(path)
	require.NoError(t, err)
	defer file.Close()
	dec := stagetrace.NewDecoder(file)
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err, "every line of %s parses", path)
		f(rec)
	}
}

// quietLogger discards the delivery warnings tests provoke on purpose.
var quietLogger = slog.New(slog.DiscardHandler)

// shutdown shuts tp down, failing the test on error.
func shutdown(t *testing.T, tp *sdktrace.TracerProvider) {
	t.Helper()
	require.NoError(t, tp.Shutdown(context.Background()))
}
