package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// ReuseLogBatcher makes a log batcher when given none, and otherwise
// returns the one given, emptied.
func TestReuseLogBatcher(t *testing.T) {
	b := ReuseLogBatcher(nil, 2, 1)
	require.NotNil(t, b)
	var r sdklog.Record
	r.SetBody(attribute.StringValue("a"))
	b.AddLog(SDKLog{Record: &r})
	require.Equal(t, 1, b.Batch().Len())

	again := ReuseLogBatcher(b, 2, 1)
	assert.Same(t, b, again)
	assert.Zero(t, again.Batch().Len(), "emptied")
	again.AddLog(SDKLog{Record: &r})
	assert.Equal(t, 1, again.Batch().Len())
}
