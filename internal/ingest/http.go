package ingest

import (
	"errors"
	"net/http"
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/stagetrace/stagetrace/internal/bearer"
)

// The OTLP/HTTP paths.
const (
	TracesPath = "/v1/traces"
	LogsPath   = "/v1/logs"
)

// HTTPHandler returns the OTLP/HTTP handler: POST /v1/traces and
// /v1/logs, protobuf or JSON, gzip or not.
func (r *Receiver) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(TracesPath, r.serveTraces)
	mux.HandleFunc(LogsPath, r.serveLogs)
	return mux
}

// admit checks the method and token; false when it has answered.
func (r *Receiver) admit(w http.ResponseWriter, req *http.Request) bool {
	if r.cfg.token != "" && !bearer.Valid(req.Header.Get("Authorization"), r.cfg.token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stagetrace"`)
		writeStatus(w, Protobuf, http.StatusUnauthorized, codes.Unauthenticated, "missing or wrong bearer token")
		return false
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, Protobuf, http.StatusMethodNotAllowed, codes.Unimplemented, "OTLP/HTTP wants POST")
		return false
	}
	return true
}

func (r *Receiver) serveTraces(w http.ResponseWriter, req *http.Request) {
	if !r.admit(w, req) {
		return
	}
	ex, f, err := DecodeTraces(req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding"), req.Body, r.cfg.maxBodyBytes)
	if err != nil {
		r.writeError(w, f, err)
		return
	}
	rejected, msg, err := r.ConsumeTraces(ex.Traces())
	if err != nil {
		r.writeError(w, f, err)
		return
	}
	resp := ptraceotlp.NewExportResponse()
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	writeResponse(w, f, resp)
}

func (r *Receiver) serveLogs(w http.ResponseWriter, req *http.Request) {
	if !r.admit(w, req) {
		return
	}
	ex, f, err := DecodeLogs(req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding"), req.Body, r.cfg.maxBodyBytes)
	if err != nil {
		r.writeError(w, f, err)
		return
	}
	if err := r.ConsumeLogs(ex.Logs()); err != nil {
		r.writeError(w, f, err)
		return
	}
	resp := plogotlp.NewExportResponse()
	writeResponse(w, f, resp)
}

// response is an OTLP export response, of traces or of logs.
type response interface {
	MarshalJSON() ([]byte, error)
	MarshalProto() ([]byte, error)
}

// writeResponse writes resp, a success, in the request's encoding.
func writeResponse(w http.ResponseWriter, f Format, resp response) {
	var body []byte
	var err error
	if f == JSON {
		body, err = resp.MarshalJSON()
	} else {
		body, err = resp.MarshalProto()
	}
	if err != nil {
		writeStatus(w, f, http.StatusInternalServerError, codes.Internal, err.Error())
		return
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError answers a request that failed with the status the OTLP
// specification gives each failure.
func (r *Receiver) writeError(w http.ResponseWriter, f Format, err error) {
	var be *BodyError
	switch {
	case errors.As(err, &be):
		writeStatus(w, f, http.StatusBadRequest, codes.InvalidArgument, be.Error())
	case errors.Is(err, ErrTooLarge):
		writeStatus(w, f, http.StatusRequestEntityTooLarge, codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrMediaType), errors.Is(err, ErrEncoding):
		writeStatus(w, f, http.StatusUnsupportedMediaType, codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrQueueFull):
		w.Header().Set("Retry-After", r.retryAfter())
		writeStatus(w, f, http.StatusTooManyRequests, codes.Unavailable, err.Error())
	case errors.Is(err, ErrShuttingDown):
		w.Header().Set("Retry-After", r.retryAfter())
		writeStatus(w, f, http.StatusServiceUnavailable, codes.Unavailable, err.Error())
	default:
		writeStatus(w, f, http.StatusInternalServerError, codes.Internal, err.Error())
	}
}

func (r *Receiver) retryAfter() string {
	return strconv.Itoa(int(r.cfg.retryAfter.Seconds()))
}

// writeStatus writes a google.rpc.Status body, as OTLP/HTTP wants for
// every failure, in the request's encoding.
func writeStatus(w http.ResponseWriter, f Format, httpCode int, code codes.Code, msg string) {
	st := &spb.Status{Code: int32(code), Message: msg}
	var body []byte
	var err error
	if f == JSON {
		body, err = protojson.Marshal(st)
	} else {
		body, err = proto.Marshal(st)
	}
	if err != nil {
		body = nil
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}
