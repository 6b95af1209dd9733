package stagetrace

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nestedValue wraps leaf in one slice or map per byte of shape (odd bytes
// make maps), the first byte outermost.
func nestedValue(shape []byte, leaf Value) Value {
	v := leaf
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i]&1 == 1 {
			v = MapValue(Attr{Key: "m", Value: v}, Attr{Key: "s", Value: StringValue("x")})
		} else {
			v = SliceValue(v, Int64Value(int64(i)))
		}
	}
	return v
}

func TestLimitDepth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		depth     int
		truncated int
	}{
		{"scalar", 0, 0},
		{"one level", 1, 0},
		{"at the limit", MaxDepth, 0},
		{"one past", MaxDepth + 1, 1},
		{"far past", 20_000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := nestedValue(bytes.Repeat([]byte{1, 0}, tc.depth)[:tc.depth], StringValue("leaf"))
			got, n := LimitDepth(v)
			assert.Equal(t, tc.truncated, n)
			assert.Equal(t, min(tc.depth, MaxDepth), Depth(got))
			if tc.truncated == 0 {
				assert.True(t, got.Equal(v), "a value within the limit is kept as it is")
				return
			}
			// The value is kept down to the limit, where the marker is.
			inner := got
			for range MaxDepth {
				if s := inner.AsSlice(); s != nil {
					inner = s[0]
				} else {
					inner = inner.AsMap()[0].Value
				}
			}
			assert.Equal(t, TruncatedMarker, inner.AsString())
			assert.Equal(t, tc.depth, Depth(v), "the original is not changed")
		})
	}
}

func TestBatchLimitDepth(t *testing.T) {
	deep := nestedValue(make([]byte, MaxDepth+1), BoolValue(true))
	res := &Resource{Attrs: Attrs{{Key: "r", Value: deep}}}
	b := Batch{
		Spans:  []StageSpan{{Attrs: Attrs{{Key: "a", Value: deep}}, Findings: Attrs{{Key: "f", Value: deep}}, Resource: res}},
		Events: []TraceEvent{{Attrs: Attrs{{Key: "e", Value: deep}, {Key: "ok", Value: IntValue(1)}}}},
	}
	assert.Equal(t, 4, b.LimitDepth())
	for _, a := range []Attrs{b.Spans[0].Attrs, b.Spans[0].Findings, b.Spans[0].Resource.Attrs, b.Events[0].Attrs[:1]} {
		assert.Equal(t, MaxDepth, Depth(a[0].Value))
	}
	assert.Equal(t, 0, b.LimitDepth(), "a limited batch is within the limit")
}

// The JSON lines a writer writes always decode, however deep the values
// handed to it, and a line that does not decode never hides the next one.
func TestEncoderWritesDeepValuesTruncated(t *testing.T) {
	deep := nestedValue(make([]byte, 20_000), StringValue("leaf"))
	spans := []StageSpan{
		{RunID: "r", Name: "deep", Attrs: Attrs{{Key: "payload", Value: deep}}},
		{RunID: "r", Name: "after"},
	}
	var enc Encoder
	var buf []byte
	for i := range spans {
		buf = enc.AppendSpan(buf, &spans[i])
	}
	dec := NewDecoder(bytes.NewReader(buf))
	var names []string
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, rec.Span.Name)
		if rec.Span.Name == "deep" {
			v, _ := rec.Span.Attrs.Get("payload")
			want, _ := LimitDepth(deep)
			assert.True(t, want.Equal(v))
		}
	}
	assert.Equal(t, []string{"deep", "after"}, names)
}

func FuzzLimitDepth(f *testing.F) {
	f.Add(make([]byte, MaxDepth+1))
	f.Add(bytes.Repeat([]byte{1}, 3*MaxDepth))
	f.Add([]byte{0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, shape []byte) {
		v := nestedValue(shape, Float64Value(0.5))
		got, n := LimitDepth(v)
		if Depth(got) > MaxDepth {
			t.Fatalf("depth %d after the limit", Depth(got))
		}
		if (n > 0) != (len(shape) > MaxDepth) {
			t.Fatalf("%d truncated at depth %d", n, len(shape))
		}
		// The encoder writes the limited value, and it decodes back.
		span := StageSpan{Attrs: Attrs{{Key: "v", Value: v}}}
		rec, err := DecodeLine(new(Encoder).AppendSpan(nil, &span))
		if err != nil {
			t.Fatalf("depth %d: %v", len(shape), err)
		}
		if back, _ := rec.Span.Attrs.Get("v"); !back.Equal(got) {
			t.Fatalf("depth %d: decoded %#v, want %#v", len(shape), back, got)
		}
	})
}

// A resource is shared beyond one batch: a too deep one is replaced by a
// limited copy, shared by the batch's spans, and the original is kept.
func TestBatchLimitDepthCopiesResources(t *testing.T) {
	deep := nestedValue(make([]byte, MaxDepth+1), BoolValue(true))
	shared := &Resource{Attrs: Attrs{{Key: "r", Value: deep}}}
	plain := &Resource{Attrs: Attrs{{Key: "host", Value: StringValue("h")}}}
	b := Batch{Spans: []StageSpan{{Resource: shared}, {Resource: shared}, {Resource: plain}}}
	assert.Equal(t, 1, b.LimitDepth())
	assert.Equal(t, MaxDepth+1, Depth(shared.Attrs[0].Value), "the shared resource is not changed")
	assert.Same(t, b.Spans[0].Resource, b.Spans[1].Resource)
	assert.Equal(t, MaxDepth, Depth(b.Spans[0].Resource.Attrs[0].Value))
	assert.Same(t, plain, b.Spans[2].Resource)
}
