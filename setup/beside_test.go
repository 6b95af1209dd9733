package setup_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/setup"
)

// traceTurn runs one LLM call in run run-1, stage inference, with a
// finding, through tp.
func traceTurn(t *testing.T, tp *sdktrace.TracerProvider) {
	t.Helper()
	ctx := attributes.ContextWithRun(context.Background(), "run-1")
	ctx = attributes.ContextWithStage(ctx, "inference")
	_, span := tp.Tracer("test").Start(ctx, "chat")
	attributes.SetFinding(span, "score", 0.9)
	span.End()
}

// attrsOf returns the string form of the attributes of kvs.
func attrsOf(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_DoubleValue:
			out[kv.GetKey()] = "double"
		default:
			out[kv.GetKey()] = "other"
		}
	}
	return out
}

func TestBesideAnotherExporter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	other := tracetest.NewInMemoryExporter()
	inst, err := setup.Install(context.Background(),
		setup.WithSinkSpec("jsonl:"+path),
		setup.WithTracerProviderOptions(sdktrace.WithSyncer(other)))
	require.NoError(t, err)

	traceTurn(t, inst.TracerProvider())
	// Read the other exporter before Shutdown, which resets it.
	got := other.GetSpans()
	require.NoError(t, inst.Shutdown(context.Background()))

	require.Len(t, got, 1)
	attrs := map[string]string{}
	for _, kv := range got[0].Attributes {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	assert.Equal(t, "run-1", attrs["run.id"], "the processor's attributes reach every exporter")
	assert.Equal(t, "inference", attrs["run.stage"])
	assert.Equal(t, "0.9", attrs["finding.score"])
	spans := readSpans(t, path)
	require.Len(t, spans, 1)
	assert.Equal(t, "run-1", spans[0].RunID)
}

func TestBesideOTLPHTTP(t *testing.T) {
	var (
		mu   sync.Mutex
		reqs []*coltracepb.ExportTraceServiceRequest
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.URL.Path != "/v1/traces" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		req := new(coltracepb.ExportTraceServiceRequest)
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer srv.Close()

	otlp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	inst, err := setup.Install(context.Background(),
		setup.WithSinkSpec("jsonl:"+path),
		setup.WithTracerProviderOptions(sdktrace.WithBatcher(otlp)))
	require.NoError(t, err)
	traceTurn(t, inst.TracerProvider())
	require.NoError(t, inst.Shutdown(context.Background()))

	mu.Lock()
	defer mu.Unlock()
	var attrs map[string]string
	for _, req := range reqs {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					require.Nil(t, attrs, "one span exported")
					attrs = attrsOf(s.GetAttributes())
				}
			}
		}
	}
	require.NotNil(t, attrs, "the OTLP server received the span")
	assert.Equal(t, "run-1", attrs["run.id"])
	assert.Equal(t, "inference", attrs["run.stage"])
	assert.Equal(t, "double", attrs["finding.score"])
	assert.Len(t, readSpans(t, path), 1)
}
