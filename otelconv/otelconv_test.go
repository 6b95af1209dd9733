package otelconv_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/otelconv"
)

func TestAttributeValuesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   attribute.Value
		kind stagetrace.Kind
	}{
		{"bool", attribute.BoolValue(true), stagetrace.KindBool},
		{"int64", attribute.Int64Value(-7), stagetrace.KindInt64},
		{"float64", attribute.Float64Value(2.5), stagetrace.KindFloat64},
		{"NaN", attribute.Float64Value(math.NaN()), stagetrace.KindFloat64},
		{"string", attribute.StringValue("gpt-4o"), stagetrace.KindString},
		{"bytes", attribute.ByteSliceValue([]byte{0, 0xff}), stagetrace.KindBytes},
		{"bool slice", attribute.BoolSliceValue([]bool{true, false}), stagetrace.KindBoolSlice},
		{"int64 slice", attribute.Int64SliceValue([]int64{1, 2}), stagetrace.KindInt64Slice},
		{"float64 slice", attribute.Float64SliceValue([]float64{0.5}), stagetrace.KindFloat64Slice},
		{"string slice", attribute.StringSliceValue([]string{"stop", "length"}), stagetrace.KindStringSlice},
		{"slice", attribute.SliceValue(attribute.StringValue("a"), attribute.Int64Value(1)), stagetrace.KindSlice},
		{"map", attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", 3)), stagetrace.KindMap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := otelconv.FromAttribute(tt.in)
			require.Equal(t, tt.kind, v.Kind())
			back := otelconv.ToAttribute(v)
			assert.Equal(t, tt.in.Type(), back.Type())
			assert.Equal(t, tt.in.String(), back.String())

			// Converted in place, over a value of another kind, as in an
			// array being reused: the same value, nothing of the old one.
			into := stagetrace.StringSliceValue([]string{"old"})
			otelconv.FromAttributeInto(&into, &tt.in)
			assert.Equal(t, v.GoString(), into.GoString())
			assert.Equal(t, math.Float64bits(v.AsFloat64()), math.Float64bits(into.AsFloat64()))
			if v.Kind() != stagetrace.KindFloat64 { // NaN is not equal to itself
				assert.Equal(t, v.AsInterface(), into.AsInterface())
			}
		})
	}
}

func TestAppendKeyValuesKeepsOrderAndDst(t *testing.T) {
	dst := stagetrace.Attrs{{Key: "run.id", Value: stagetrace.StringValue("r")}}
	got := otelconv.AppendKeyValues(dst, []attribute.KeyValue{attribute.Int("b", 2), attribute.String("a", "x")})
	require.Len(t, got, 3)
	assert.Equal(t, []string{"run.id", "b", "a"}, []string{got[0].Key, got[1].Key, got[2].Key})
	assert.Equal(t, int64(2), got[1].Value.AsInt64())
}

func TestKindAndStatus(t *testing.T) {
	assert.Equal(t, stagetrace.SpanKindClient, otelconv.KindFromOTel(trace.SpanKindClient))
	assert.Equal(t, stagetrace.SpanKindUnspecified, otelconv.KindFromOTel(trace.SpanKind(99)), "an unknown kind is unspecified, not a wrong one")
	assert.Equal(t, stagetrace.StatusOK, otelconv.StatusFromOTel(codes.Ok))
	assert.Equal(t, stagetrace.StatusError, otelconv.StatusFromOTel(codes.Error))
	assert.Equal(t, stagetrace.StatusUnset, otelconv.StatusFromOTel(codes.Unset))
}

// A Slab converts to the same values as AppendKeyValues, string slices
// included, and values stay valid while the slab moves on.
func TestSlabConvertsAsAppendKeyValues(t *testing.T) {
	kvs := []attribute.KeyValue{
		attribute.StringSlice("s", []string{"a", "b"}),
		attribute.Int("i", 1),
		attribute.StringSlice("empty", nil),
		attribute.BoolSlice("b", []bool{true}),
	}
	want := otelconv.AppendKeyValues(nil, kvs)
	var slab otelconv.Slab
	var got stagetrace.Attrs
	for range 200 { // past the slab's first arrays
		got = slab.AppendKeyValues(got, kvs)
	}
	for i := 0; i < len(got); i += len(kvs) {
		require.True(t, want.Equal(got[i:i+len(kvs)]), "batch %d: %v", i/len(kvs), got[i:i+len(kvs)])
	}
	assert.Equal(t, []string{"a", "b"}, got[0].Value.AsStringSlice())
	assert.Equal(t, []string{"a", "b"}, got[0].Value.AsInterface())
	assert.Equal(t, want[0].Value.String(), got[0].Value.String())
	slab.Reset(1)
	again := slab.AppendKeyValues(nil, kvs[:1])
	assert.True(t, again[0].Value.Equal(got[0].Value))
	assert.Equal(t, []string{"a", "b"}, got[0].Value.AsStringSlice(), "a value outlives Reset")
}

// Equal string slices converted one after another share one conversion:
// neither the SDK's copy nor a header is made again for them.
func TestSlabSharesEqualStringSlices(t *testing.T) {
	stop := attribute.StringSlice("finish_reasons", []string{"stop"})
	var slab otelconv.Slab
	first := slab.AppendKeyValues(make(stagetrace.Attrs, 0, 2), []attribute.KeyValue{stop})
	other := []attribute.KeyValue{attribute.StringSlice("other", []string{"stop"})} // equal, not the same
	allocs := testing.AllocsPerRun(100, func() {
		got := slab.AppendKeyValues(first[:1], other)
		if !got[1].Value.Equal(first[0].Value) {
			t.Fatalf("converted %v, want %v", got[1].Value, first[0].Value)
		}
	})
	assert.Zero(t, allocs)

	got := slab.AppendKeyValues(nil, []attribute.KeyValue{
		attribute.StringSlice("a", []string{"stop", "length"}),
		attribute.StringSlice("b", []string{"length"}),
		stop,
	})
	assert.Equal(t, []string{"stop", "length"}, got[0].Value.AsStringSlice())
	assert.Equal(t, []string{"length"}, got[1].Value.AsStringSlice())
	assert.Equal(t, []string{"stop"}, got[2].Value.AsStringSlice())
}

// After Reuse the slab's headers are overwritten by the next conversions,
// and no conversion from before Reuse is handed out again.
func TestSlabReuseStartsOver(t *testing.T) {
	a := attribute.StringSlice("k", []string{"a"})
	var slab otelconv.Slab
	slab.AppendKeyValues(nil, []attribute.KeyValue{a})
	slab.Reuse()
	b := slab.AppendKeyValues(nil, []attribute.KeyValue{attribute.StringSlice("k", []string{"b"})})
	again := slab.AppendKeyValues(nil, []attribute.KeyValue{a})
	assert.Equal(t, []string{"b"}, b[0].Value.AsStringSlice())
	assert.Equal(t, []string{"a"}, again[0].Value.AsStringSlice())
}
