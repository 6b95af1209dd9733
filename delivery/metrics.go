package delivery

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/stagetrace/stagetrace/attributes"
)

// meterName is the instrumentation scope of the delivery metrics.
const meterName = "github.com/stagetrace/stagetrace/delivery"

// Names of the delivery metrics. Each carries the attribute
// stagetrace.sink naming the wrapped sink ([WithName]).
const (
	MetricDelivered     = "stagetrace.delivery.delivered"      // batches written to the sink
	MetricReplayed      = "stagetrace.delivery.replayed"       // of those, batches replayed from spill
	MetricSpilled       = "stagetrace.delivery.spilled"        // batches written to spill segments
	MetricDropped       = "stagetrace.delivery.dropped"        // batches lost
	MetricDroppedSpans  = "stagetrace.delivery.dropped.spans"  // spans in the batches lost
	MetricDroppedEvents = "stagetrace.delivery.dropped.events" // events in the batches lost
	MetricCorrupted     = "stagetrace.delivery.corrupted"      // damaged spill records skipped
	MetricRetries       = "stagetrace.delivery.retries"        // failed writes tried again
	MetricThrottled     = "stagetrace.delivery.throttled"      // failed writes that asked for a pause
	MetricQueued        = "stagetrace.delivery.queued"         // batches in memory now (gauge)
	MetricSpillSize     = "stagetrace.delivery.spill.size"     // bytes on disk now (gauge)
)

// registerMetrics creates the instruments and a callback that reads them
// from Stats when a reader collects.
func (s *Sink) registerMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	m := mp.Meter(meterName)
	type counter struct {
		inst metric.Int64ObservableCounter
		get  func(Stats) int64
	}
	specs := []struct {
		name, unit, desc string
		get              func(Stats) int64
	}{
		{MetricDelivered, "{batch}", "Batches written to the sink, replayed ones included.", func(st Stats) int64 { return st.Delivered }},
		{MetricReplayed, "{batch}", "Batches replayed from spill segments and written to the sink.", func(st Stats) int64 { return st.Replayed }},
		{MetricSpilled, "{batch}", "Batches written to spill segments.", func(st Stats) int64 { return st.Spilled }},
		{MetricDropped, "{batch}", "Batches lost: queue or spill full, retries exhausted, refused, or left at shutdown.", func(st Stats) int64 { return st.Dropped }},
		{MetricDroppedSpans, "{span}", "Spans in the batches lost.", func(st Stats) int64 { return st.DroppedSpans }},
		{MetricDroppedEvents, "{event}", "Events in the batches lost.", func(st Stats) int64 { return st.DroppedEvents }},
		{MetricCorrupted, "{record}", "Damaged spill records skipped.", func(st Stats) int64 { return st.Corrupted }},
		{MetricRetries, "{attempt}", "Failed writes that were tried again.", func(st Stats) int64 { return st.Retries }},
		{MetricThrottled, "{attempt}", "Failed writes whose error asked for a pause (Retry-After), which was honoured.", func(st Stats) int64 { return st.Throttled }},
	}
	var counters []counter
	var observables []metric.Observable
	for _, sp := range specs {
		c, err := m.Int64ObservableCounter(sp.name, metric.WithUnit(sp.unit), metric.WithDescription(sp.desc))
		if err != nil {
			return nil, err
		}
		counters = append(counters, counter{c, sp.get})
		observables = append(observables, c)
	}
	queued, err := m.Int64ObservableGauge(MetricQueued, metric.WithUnit("{batch}"),
		metric.WithDescription("Batches waiting in memory."))
	if err != nil {
		return nil, err
	}
	spill, err := m.Int64ObservableGauge(MetricSpillSize, metric.WithUnit("By"),
		metric.WithDescription("Bytes of spill segments on disk."))
	if err != nil {
		return nil, err
	}
	observables = append(observables, queued, spill)
	attrs := metric.WithAttributes(attributes.DeliverySink.String(s.name))
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := s.Stats()
		for _, c := range counters {
			o.ObserveInt64(c.inst, c.get(st), attrs)
		}
		o.ObserveInt64(queued, int64(st.Queued), attrs)
		o.ObserveInt64(spill, st.SpillBytes, attrs)
		return nil
	}, observables...)
}
