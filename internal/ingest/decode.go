package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Errors of DecodeTraces and DecodeLogs, besides a *BodyError.
var (
	// ErrTooLarge is a body past the size limit, compressed or not.
	ErrTooLarge = errors.New("ingest: request body too large")
	// ErrMediaType is a Content-Type other than OTLP's protobuf and JSON.
	ErrMediaType = errors.New("ingest: unsupported content type: want application/x-protobuf or application/json")
	// ErrEncoding is a Content-Encoding other than gzip or none.
	ErrEncoding = errors.New("ingest: unsupported content encoding: want gzip or none")
)

// BodyError is a body that does not decode: the client's mistake (HTTP
// 400), not to be retried.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "ingest: malformed body: " + e.Err.Error() }

func (e *BodyError) Unwrap() error { return e.Err }

// Format is the encoding of an OTLP/HTTP body.
type Format int

// The OTLP/HTTP encodings.
const (
	Protobuf Format = iota
	JSON
)

// ContentType returns the media type of f.
func (f Format) ContentType() string {
	if f == JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// FormatOf returns the format a Content-Type names.
func FormatOf(contentType string) (Format, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return Protobuf, ErrMediaType
	}
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		return Protobuf, nil
	case "application/json":
		return JSON, nil
	}
	return Protobuf, ErrMediaType
}

// readBody reads body, gunzipped when contentEncoding says gzip, and
// refuses more than limit bytes before or after decompression: a small
// gzip bomb costs no more memory than a large plain body.
func readBody(contentEncoding string, body io.Reader, limit int64) ([]byte, error) {
	raw, err := readLimited(body, limit)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, &BodyError{fmt.Errorf("gzip: %w", err)}
		}
		out, err := readLimited(zr, limit)
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		if err != nil {
			return nil, &BodyError{fmt.Errorf("gzip: %w", err)}
		}
		return out, nil
	}
	return nil, ErrEncoding
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// DecodeTraces decodes an OTLP/HTTP trace export request body of the
// given Content-Type and Content-Encoding, at most limit bytes before and
// after decompression.
func DecodeTraces(contentType, contentEncoding string, body io.Reader, limit int64) (ptraceotlp.ExportRequest, Format, error) {
	return decode(ptraceotlp.NewExportRequest(), contentType, contentEncoding, body, limit)
}

// DecodeLogs decodes an OTLP/HTTP log export request body, as
// DecodeTraces does a trace one.
func DecodeLogs(contentType, contentEncoding string, body io.Reader, limit int64) (plogotlp.ExportRequest, Format, error) {
	return decode(plogotlp.NewExportRequest(), contentType, contentEncoding, body, limit)
}

// exportRequest is an OTLP export request of pdata: traces or logs.
type exportRequest interface {
	UnmarshalJSON([]byte) error
	UnmarshalProto([]byte) error
}

// decode reads body into req, as DecodeTraces describes.
func decode[R exportRequest](req R, contentType, contentEncoding string, body io.Reader, limit int64) (R, Format, error) {
	f, err := FormatOf(contentType)
	if err != nil {
		return req, f, err
	}
	b, err := readBody(contentEncoding, body, limit)
	if err != nil {
		return req, f, err
	}
	if f == JSON {
		err = req.UnmarshalJSON(b)
	} else {
		err = req.UnmarshalProto(b)
	}
	if err != nil {
		return req, f, &BodyError{err}
	}
	return req, f, nil
}
