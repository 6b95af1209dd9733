package ingest

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/stagetrace/stagetrace/internal/bearer"
)

// GRPCServer returns a gRPC server serving the OTLP trace and log
// services, with the body size limit and, when set, the bearer token
// check.
func (r *Receiver) GRPCServer() *grpc.Server {
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(int(r.cfg.maxBodyBytes)), grpc.UnaryInterceptor(r.authorize))
	ptraceotlp.RegisterGRPCServer(srv, &traceService{r: r})
	plogotlp.RegisterGRPCServer(srv, &logService{r: r})
	return srv
}

func (r *Receiver) authorize(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if r.cfg.token != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		var header string
		if v := md.Get("authorization"); len(v) > 0 {
			header = v[0]
		}
		if !bearer.Valid(header, r.cfg.token) {
			return nil, status.Error(codes.Unauthenticated, "missing or wrong bearer token")
		}
	}
	return next(ctx, req)
}

type traceService struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *traceService) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	resp := ptraceotlp.NewExportResponse()
	rejected, msg, err := s.r.ConsumeTraces(req.Traces())
	if err != nil {
		return resp, s.r.grpcError(err)
	}
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	return resp, nil
}

type logService struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *logService) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	if err := s.r.ConsumeLogs(req.Logs()); err != nil {
		return plogotlp.NewExportResponse(), s.r.grpcError(err)
	}
	return plogotlp.NewExportResponse(), nil
}

// grpcError is UNAVAILABLE with a retry delay for a full queue or a
// shutdown, which OTLP clients retry after the delay.
func (r *Receiver) grpcError(err error) error {
	if errors.Is(err, ErrQueueFull) || errors.Is(err, ErrShuttingDown) {
		st, derr := status.New(codes.Unavailable, err.Error()).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(r.cfg.retryAfter)})
		if derr != nil {
			return status.Error(codes.Unavailable, err.Error())
		}
		return st.Err()
	}
	return status.Error(codes.Internal, err.Error())
}
