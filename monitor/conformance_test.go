package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/monitor/export"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		// A rule that fires on the suite's spans, a handler, a forward
		// sink, the ticker and snapshots: every goroutine a monitor can
		// start, for Shutdown to stop.
		save, err := export.ToDir(t.TempDir(), export.FormatJSON)
		require.NoError(t, err)
		m, err := monitor.New(
			monitor.WithAlerts(alert.Rule{
				Name: "generate-seen", Metric: "sinktest.generate",
				Stat: alert.StatCount, Op: query.OpGt, Threshold: 0, Window: time.Minute,
			}),
			monitor.WithAlertHandlers(alert.HandlerFunc(func(context.Context, alert.Alert) error { return nil })),
			monitor.WithForward(memsink.New()),
			monitor.WithEvalInterval(10*time.Millisecond),
			monitor.WithSnapshots(50*time.Millisecond, save),
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
				case monitor.KindLog:
					if st.Name == "verbose" { // every log event with a level, once
						c.Events += int(st.Count)
					}
				}
			}
			return c
		}}
	})
}
