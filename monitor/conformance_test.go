package monitor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		m, err := monitor.New()
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
