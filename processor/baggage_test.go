package processor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// TestBaggageOverHTTP carries a run and a stage in W3C baggage from a
// client to a server over a real HTTP connection and checks that the
// server's spans honour them only as far as the allow-list says.
func TestBaggageOverHTTP(t *testing.T) {
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	cases := []struct {
		name string
		opts []Option
		want want
	}{
		{"allowed", []Option{allowBoth}, want{"remote-run", "remote-stage"}},
		{"not allowed", nil, want{}},
		{"run.id not in the list", []Option{WithBaggageKeys(string(attributes.RunStage))}, want{"", "remote-stage"}},
		{"only other keys allowed", []Option{WithBaggageKeys("tenant.id")}, want{}},
		// A default applies to spans the baggage does not place.
		{"not allowed, default", []Option{WithDefaultRunID("local")}, want{"local", ""}},
	}
	forEachMode(t, func(t *testing.T, m mode) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				server := newHarness(t, m, c.opts...)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
					ctx, span := server.tr.Start(ctx, "server", trace.WithSpanKind(trace.SpanKindServer))
					end(server.tr.Start(ctx, "server-child"))
					span.End()
					w.WriteHeader(http.StatusNoContent)
				}))
				t.Cleanup(srv.Close)

				// The client trusts nothing from baggage itself: its run is
				// the one it sends.
				ctp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
				t.Cleanup(func() { _ = ctp.Shutdown(context.Background()) })
				ctx := withBaggage(t, context.Background(), "remote-run", "remote-stage")
				ctx, client := ctp.Tracer("client").Start(ctx, "client", trace.WithSpanKind(trace.SpanKindClient))

				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				require.NoError(t, err)
				prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
				require.Contains(t, req.Header.Get("Baggage"), "run.id=remote-run")
				resp, err := srv.Client().Do(req)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				require.Equal(t, http.StatusNoContent, resp.StatusCode)
				client.End()

				spans := server.spans(t)
				require.Len(t, spans, 2)
				for _, name := range []string{"server", "server-child"} {
					s := spans[name]
					g := runStageOf(s.Attributes)
					assert.Equal(t, c.want.run, g.run, "run.id of %q", name)
					assert.Equal(t, c.want.stage, g.stage, "run.stage of %q", name)
					assert.Equal(t, client.SpanContext().TraceID(), s.SpanContext.TraceID(), "trace of %q", name)
				}
				assert.True(t, spans["server"].Parent.IsRemote())
			})
		}
	})
}

// TestBaggageTooLargeIsIgnored documents what happens to a run id too
// long for W3C baggage: attributes.BaggageWithRun accepts it and the
// sender's propagator sends it, but the receiver's propagator drops baggage
// over the W3C size limit (8192 bytes), so the server never sees the run.
func TestBaggageTooLargeIsIgnored(t *testing.T) {
	prop := propagation.Baggage{}
	ctx, err := attributes.BaggageWithRun(context.Background(), string(make1MiB('r')))
	require.NoError(t, err)
	h := http.Header{}
	prop.Inject(ctx, propagation.HeaderCarrier(h))
	assert.Greater(t, len(h.Get("Baggage")), 8192)
	_, ok := attributes.RunFromBaggage(prop.Extract(context.Background(), propagation.HeaderCarrier(h)))
	assert.False(t, ok)
}
