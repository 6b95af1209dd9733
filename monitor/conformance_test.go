package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		// A rule that fires on the suite's spans, a handler, a forward
		// sink, the ticker and snapshots: every goroutine a monitor can
		// start, for Shutdown to stop.
		m, err := monitor.New(
			monitor.WithAlerts(monitor.AlertRule{
				Name: "generate-seen", Metric: "sinktest.generate",
				Stat: monitor.StatCount, Op: monitor.OpGreater, Threshold: 0, Window: time.Minute,
			}),
			monitor.WithAlertHandlers(monitor.HandlerFunc(func(context.Context, monitor.Alert) error { return nil })),
			monitor.WithForward(memsink.New()),
			monitor.WithEvalInterval(10*time.Millisecond),
			monitor.WithSnapshots(t.TempDir(), 50*time.Millisecond, monitor.FormatJSON),
		)
		require.NoError(t, err)
		return sinktest.Harness{Sink: m, Count: func(*testing.T) sinktest.Counts {
			var c sinktest.Counts
			for _, st := range m.Snapshot(monitor.DefaultRetention).Metrics {
				switch st.Kind {
				case monitor.KindSpan:
					c.Spans += int(st.Count)
				case monitor.KindMetric:
					c.Events += int(st.Count)
				}
			}
			return c
		}}
	})
}
