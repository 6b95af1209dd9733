package rules

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/otelconv"
)

// Span is what rules read of a span. It is small so that a live SDK span
// at start, an ended SDK span, the exporter's mapped span and a collector
// pdata span can all provide it. Implementations must be safe to call from
// the goroutine evaluating the rules and should not allocate.
type Span interface {
	// Name returns the span name.
	Name() string
	// Scope returns the name of the instrumentation scope.
	Scope() string
	// Kind returns the span kind.
	Kind() stagetrace.SpanKind
	// Attribute returns the value of the attribute key and whether the
	// span has it.
	Attribute(key string) (stagetrace.Value, bool)
}

// SpanData is a Span held in plain fields: for tests, and for callers that
// have a span's parts at hand. Pass a pointer to avoid copying it into the
// interface.
type SpanData struct {
	SpanName  string
	ScopeName string
	SpanKind  stagetrace.SpanKind
	Attrs     stagetrace.Attrs
}

var _ Span = (*SpanData)(nil)

// Name returns SpanName.
func (s *SpanData) Name() string { return s.SpanName }

// Scope returns ScopeName.
func (s *SpanData) Scope() string { return s.ScopeName }

// Kind returns SpanKind.
func (s *SpanData) Kind() stagetrace.SpanKind { return s.SpanKind }

// Attribute returns the value of key in Attrs.
func (s *SpanData) Attribute(key string) (stagetrace.Value, bool) { return s.Attrs.Get(key) }

// KeyValueSpan is a Span over attributes as the OpenTelemetry Go API holds
// them: what an SDK span offers at start (ReadWriteSpan.Attributes) or at
// its end. Pass a pointer to avoid copying it into the interface.
type KeyValueSpan struct {
	SpanName  string
	ScopeName string
	SpanKind  stagetrace.SpanKind
	Attrs     []attribute.KeyValue
}

var _ Span = (*KeyValueSpan)(nil)

// Name returns SpanName.
func (s *KeyValueSpan) Name() string { return s.SpanName }

// Scope returns ScopeName.
func (s *KeyValueSpan) Scope() string { return s.ScopeName }

// Kind returns SpanKind.
func (s *KeyValueSpan) Kind() stagetrace.SpanKind { return s.SpanKind }

// Attribute returns the value of key in Attrs. The SDK keeps the last
// value set for a key, so the last one wins here too.
func (s *KeyValueSpan) Attribute(key string) (stagetrace.Value, bool) {
	for i := len(s.Attrs) - 1; i >= 0; i-- {
		if string(s.Attrs[i].Key) == key {
			return otelconv.FromAttribute(s.Attrs[i].Value), true
		}
	}
	return stagetrace.Value{}, false
}

// stageSpan is the Span of a mapped StageSpan. The mapping lifts run.id,
// run.stage and finding.* out of the attributes; they are answered from
// where it put them, so that rules see the span as it was recorded.
// It holds one pointer, so it converts to Span without allocating.
type stageSpan struct{ s *stagetrace.StageSpan }

// StageSpanView returns the Span of a mapped span: its attributes, plus
// run.id, run.stage and finding.<name> answered from RunID, Stage and
// Findings.
func StageSpanView(s *stagetrace.StageSpan) Span { return stageSpan{s} }

func (v stageSpan) Name() string              { return v.s.Name }
func (v stageSpan) Scope() string             { return v.s.Scope }
func (v stageSpan) Kind() stagetrace.SpanKind { return v.s.Kind }

func (v stageSpan) Attribute(key string) (stagetrace.Value, bool) {
	switch {
	case key == string(attributes.RunID):
		return stagetrace.StringValue(v.s.RunID), v.s.RunID != ""
	case key == string(attributes.RunStage):
		return stagetrace.StringValue(v.s.Stage), v.s.Stage != ""
	case strings.HasPrefix(key, attributes.FindingPrefix):
		return v.s.Findings.Get(key[len(attributes.FindingPrefix):])
	}
	return v.s.Attrs.Get(key)
}

// keyRef is an attribute key a rule reads, with its bit in a span's
// presence mask.
type keyRef struct {
	key string
	bit uint8
}

func newKeyRef(key string) keyRef { return keyRef{key: key, bit: keyBit("", key)} }

// keyBit hashes the key prefix+name to one of 128 bits from its length and
// three of its bytes: cheap enough to compute for each attribute of a
// span, and spread enough over the keys instrumentations use, which share
// prefixes. The key is given in two parts so that finding.<name> hashes
// without being built.
func keyBit(prefix, name string) uint8 {
	n := len(prefix) + len(name)
	if n == 0 {
		return 0
	}
	at := func(i int) uint32 {
		if i < len(prefix) {
			return uint32(prefix[i])
		}
		return uint32(name[i-len(prefix)])
	}
	h := uint32(n)*0x9E3779B1 ^ at(n-1)*0x85EBCA77 ^ at(n/2)*0xC2B2AE3D ^ at(n/3)*0x27D4EB2F
	return uint8(h >> 25)
}

// maskThreshold is the number of lookups from which building a presence
// mask (one pass over the span's attributes) is cheaper than scanning the
// attributes for each key, most of which are absent.
const maskThreshold = 8

// spanInfo is what every rule reads of a span, fetched once per
// evaluation, and the span's presence mask when it has one: a lookup of a
// key whose bit is clear needs no scan.
type spanInfo struct {
	name, scope string
	kind        stagetrace.SpanKind
	masked      bool
	mask        [2]uint64
}

func (in *spanInfo) set(prefix, name string) {
	b := keyBit(prefix, name)
	in.mask[b>>6] |= 1 << (b & 63)
}

// buildMask fills the mask for the span views of this package; other
// Span implementations are read key by key.
func (in *spanInfo) buildMask(span Span) {
	switch s := span.(type) {
	case *SpanData:
		for i := range s.Attrs {
			in.set("", s.Attrs[i].Key)
		}
	case *KeyValueSpan:
		for i := range s.Attrs {
			in.set("", string(s.Attrs[i].Key))
		}
	case stageSpan:
		// The keys the view answers from outside the attributes, too.
		for i := range s.s.Attrs {
			in.set("", s.s.Attrs[i].Key)
		}
		for i := range s.s.Findings {
			in.set(attributes.FindingPrefix, s.s.Findings[i].Key)
		}
		if s.s.RunID != "" {
			in.set("", string(attributes.RunID))
		}
		if s.s.Stage != "" {
			in.set("", string(attributes.RunStage))
		}
	default:
		return
	}
	in.masked = true
}

func (in *spanInfo) get(span Span, k *keyRef) (stagetrace.Value, bool) {
	if in.masked && in.mask[k.bit>>6]&(1<<(k.bit&63)) == 0 {
		return stagetrace.Value{}, false
	}
	return span.Attribute(k.key)
}
