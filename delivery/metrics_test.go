package delivery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/delivery"
)

// collect returns the int64 points of the delivery metrics by metric name,
// keyed by the value of their stagetrace.sink attribute.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/stagetrace/stagetrace/delivery" {
			continue
		}
		for _, m := range sm.Metrics {
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				assert.True(t, d.IsMonotonic, m.Name)
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
			out[m.Name] = map[string]int64{}
			for _, p := range points {
				v, ok := p.Attributes.Value(attribute.Key(attributes.DeliverySink))
				require.True(t, ok, "%s has the sink attribute", m.Name)
				out[m.Name][v.AsString()] = p.Value
			}
		}
	}
	return out
}

// dropSome makes s drop 4 batches of 3 spans on a full queue.
func dropSome(t *testing.T, s *delivery.Sink, next *testSink) {
	t.Helper()
	require.NoError(t, s.Write(context.Background(), testBatch(0, 3)))
	<-next.entered
	for i := 1; i < 6; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 3)))
	}
}

func TestMetricsThroughAnInjectedProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	s := newSink(t, next, delivery.WithName("jsonl"), delivery.WithQueueSize(1), delivery.WithMeterProvider(mp))
	dropSome(t, s, next)

	m := collect(t, reader)
	assert.Equal(t, int64(4), m[delivery.MetricDropped]["jsonl"])
	assert.Equal(t, int64(12), m[delivery.MetricDroppedSpans]["jsonl"])
	assert.Equal(t, int64(4), m[delivery.MetricDroppedEvents]["jsonl"])
	assert.Equal(t, int64(2), m[delivery.MetricQueued]["jsonl"])
	assert.Equal(t, int64(0), m[delivery.MetricDelivered]["jsonl"])

	close(next.gate)
	flush(t, s)
	m = collect(t, reader)
	assert.Equal(t, int64(2), m[delivery.MetricDelivered]["jsonl"])
	assert.Equal(t, int64(0), m[delivery.MetricQueued]["jsonl"])
	for _, name := range []string{delivery.MetricReplayed, delivery.MetricSpilled, delivery.MetricCorrupted,
		delivery.MetricRetries, delivery.MetricThrottled, delivery.MetricSpillSize} {
		assert.Contains(t, m, name)
	}

	require.NoError(t, s.Shutdown(context.Background()))
	assert.Empty(t, collect(t, reader)[delivery.MetricDropped], "Shutdown unregisters the callback")
}

func TestMetricsThroughTheGlobalProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	defer otel.SetMeterProvider(prev)

	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	a := newSink(t, next, delivery.WithName("a"), delivery.WithQueueSize(1))
	b := newSink(t, &testSink{}, delivery.WithName("b"))
	dropSome(t, a, next)
	require.NoError(t, b.Write(context.Background(), testBatch(0, 1)))
	flush(t, b)

	m := collect(t, reader)
	assert.Equal(t, map[string]int64{"a": 4, "b": 0}, m[delivery.MetricDropped], "one series per sink")
	assert.Equal(t, int64(1), m[delivery.MetricDelivered]["b"])
	close(next.gate)
}
