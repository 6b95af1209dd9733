package logexporter_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/logtest"
	"github.com/stagetrace/stagetrace/logexporter"
)

// attrStrings returns the attributes of each record, as strings.
func attrStrings(records []sdklog.Record) []map[attribute.Key]string {
	var seen []map[attribute.Key]string
	for _, r := range records {
		m := map[attribute.Key]string{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			m[kv.Key] = kv.Value.String()
			return true
		})
		seen = append(seen, m)
	}
	return seen
}

func TestProcessorPlacesAndStops(t *testing.T) {
	p := logexporter.NewProcessor(nil)
	c := &logtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p), sdklog.WithProcessor(c))
	defer lp.Shutdown(context.Background())
	logger := lp.Logger("t")
	ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "r"), "s")
	assert.False(t, p.Enabled(ctx, sdklog.EnabledParameters{}), "it exports nothing")

	logger.Emit(ctx, log.Record{})
	var own log.Record
	own.AddAttributes(attributes.RunStage.Int(3)) // another type counts as set
	logger.Emit(ctx, own)

	require.NoError(t, p.OnEmit(ctx, nil))
	require.NoError(t, p.ForceFlush(ctx))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Shutdown(cancelled), context.Canceled)
	require.NoError(t, p.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()), "idempotent")
	logger.Emit(ctx, log.Record{})

	seen := attrStrings(c.Records())
	require.Len(t, seen, 3)
	assert.Equal(t, map[attribute.Key]string{attributes.RunID: "r", attributes.RunStage: "s"}, seen[0])
	assert.Equal(t, map[attribute.Key]string{attributes.RunID: "r", attributes.RunStage: "3"}, seen[1])
	assert.Empty(t, seen[2], "a shut down processor places nothing")
}
