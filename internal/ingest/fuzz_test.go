package ingest

import (
	"bytes"
	"testing"

	"github.com/stagetrace/stagetrace/rules"
)

// FuzzDecodeTraces feeds the OTLP/HTTP body decoder any body, content
// type and encoding: it returns a request or an error, never panics, and
// never holds more than the limit.
func FuzzDecodeTraces(f *testing.F) {
	f.Add("application/x-protobuf", "", protoBody(f, traces(2, true)))
	f.Add("application/x-protobuf", "gzip", gz(f, protoBody(f, traces(1, false))))
	f.Add("application/json", "", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01","name":"x"}]}]}]}`))
	f.Add("application/json", "gzip", []byte{0x1f, 0x8b, 0x08})
	f.Add("text/plain", "", []byte("x"))
	f.Fuzz(func(t *testing.T, contentType, encoding string, body []byte) {
		const limit = 64 << 10
		req, _, err := DecodeTraces(contentType, encoding, bytes.NewReader(body), limit)
		if err != nil {
			return
		}
		// What decoded places and maps without panicking, with the
		// presets (no goroutine: the receiver's mapping alone).
		m := newMapper(config{rules: fuzzRules})
		m.traces(req.Traces())
		if lr, _, err := DecodeLogs(contentType, encoding, bytes.NewReader(body), limit); err == nil {
			m.logs(lr.Logs())
		}
	})
}

// fuzzRules are the presets serve applies by default.
var fuzzRules = func() *rules.Set {
	set, err := rules.Compile(rules.Config{Presets: rules.PresetNames()})
	if err != nil {
		panic(err)
	}
	return set
}()
