package monitor_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace/monitor/internal/monitortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The helpers shared with the alert and export tests, under short names.
var (
	t0           = monitortest.T0
	newClock     = monitortest.NewClock
	newMonitor   = monitortest.New
	newCollector = monitortest.NewCollector
	span         = monitortest.Span
	inStage      = monitortest.InStage
	inRun        = monitortest.InRun
	failed       = monitortest.Failed
	finding      = monitortest.Finding
	attr         = monitortest.Attr
	tokens       = monitortest.Tokens
	cost         = monitortest.Cost
	metricEvent  = monitortest.MetricEvent
	write        = monitortest.Write
	writeEvents  = monitortest.WriteEvents
	states       = monitortest.States
	i64          = monitortest.I64
	f64          = monitortest.F64
	ptr          = monitortest.Ptr[float64]
)

type spanOpt = monitortest.SpanOpt
