package logexporter_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/logexporter"
)

// capture is an exporting processor that keeps the attributes of each
// record it sees.
type capture struct {
	mu   sync.Mutex
	seen []map[attribute.Key]string
}

func (c *capture) OnEmit(_ context.Context, r *sdklog.Record) error {
	m := map[attribute.Key]string{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[kv.Key] = kv.Value.String()
		return true
	})
	c.mu.Lock()
	c.seen = append(c.seen, m)
	c.mu.Unlock()
	return nil
}
func (c *capture) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *capture) Shutdown(context.Context) error                         { return nil }
func (c *capture) ForceFlush(context.Context) error                       { return nil }

func TestProcessorPlacesAndStops(t *testing.T) {
	p := logexporter.NewProcessor(nil)
	c := &capture{}
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

	require.Len(t, c.seen, 3)
	assert.Equal(t, map[attribute.Key]string{attributes.RunID: "r", attributes.RunStage: "s"}, c.seen[0])
	assert.Equal(t, map[attribute.Key]string{attributes.RunID: "r", attributes.RunStage: "3"}, c.seen[1])
	assert.Empty(t, c.seen[2], "a shut down processor places nothing")
}
