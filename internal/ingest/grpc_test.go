package ingest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// grpcClient serves r over gRPC on a loopback port and returns a client.
func grpcClient(t *testing.T, r *Receiver) ptraceotlp.GRPCClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := r.GRPCServer()
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-done
	})
	return ptraceotlp.NewGRPCClient(conn)
}

func TestGRPCPartialSuccessAndQueueFull(t *testing.T) {
	g := &gate{Sink: memsink.New(), open: make(chan struct{}), started: make(chan struct{})}
	r, err := New(g, WithQueueSize(1), WithRetryAfter(2*time.Second))
	require.NoError(t, err)
	c := grpcClient(t, r)
	ctx := context.Background()

	resp, err := c.Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces(2, true)))
	require.NoError(t, err)
	assert.Equal(t, int64(1), resp.PartialSuccess().RejectedSpans())
	<-g.started
	_, err = c.Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces(1, false)))
	require.NoError(t, err, "the queue holds one batch")
	_, err = c.Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces(1, false)))
	st, ok := status.FromError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, codes.Unavailable, st.Code(), "retryable")
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	assert.Equal(t, 2*time.Second, delay, "RetryInfo gives the delay")

	close(g.open)
	require.NoError(t, r.Shutdown(ctx))
	assert.Len(t, g.Spans(), 3)
}

func TestGRPCBearerToken(t *testing.T) {
	mem := memsink.New()
	r, err := New(mem, WithBearerToken("tok"))
	require.NoError(t, err)
	c := grpcClient(t, r)
	ctx := context.Background()
	_, err = c.Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces(1, false)))
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = c.Export(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer nope"), ptraceotlp.NewExportRequestFromTraces(traces(1, false)))
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = c.Export(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer tok"), ptraceotlp.NewExportRequestFromTraces(traces(1, false)))
	require.NoError(t, err)
	require.NoError(t, r.Shutdown(ctx))
	assert.Len(t, mem.Spans(), 1)
}

var _ stagetrace.Sink = (*gate)(nil)
