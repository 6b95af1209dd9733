package otelconv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace"
)

// A nil *Slab converts as the package's functions do, string slices
// included: callers with no Slab call its methods all the same.
func TestNilSlabConvertsAsPackage(t *testing.T) {
	kvs := []attribute.KeyValue{
		attribute.String("s", "v"),
		attribute.Int64("i", 3),
		attribute.StringSlice("ss", []string{"a", "b"}),
		attribute.BoolSlice("bs", []bool{true}),
	}
	var s *Slab
	head := stagetrace.Attr{Key: "head", Value: stagetrace.BoolValue(true)}
	got := s.AppendKeyValues(stagetrace.Attrs{head}, kvs)
	want := stagetrace.Attrs{head}
	for _, kv := range kvs {
		want = append(want, stagetrace.Attr{Key: string(kv.Key), Value: FromAttribute(kv.Value)})
	}
	assert.Equal(t, want, got)
	for _, kv := range kvs {
		var v stagetrace.Value
		s.ValueInto(&v, &kv.Value)
		assert.Equal(t, FromAttribute(kv.Value), v, string(kv.Key))
	}
}
