package export_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace/monitor/internal/monitortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The helpers shared with the monitor's tests, under short names.
var (
	newClock    = monitortest.NewClock
	newMonitor  = monitortest.New
	span        = monitortest.Span
	inStage     = monitortest.InStage
	failed      = monitortest.Failed
	finding     = monitortest.Finding
	tokens      = monitortest.Tokens
	cost        = monitortest.Cost
	metricEvent = monitortest.MetricEvent
	write       = monitortest.Write
	writeEvents = monitortest.WriteEvents
	f64         = monitortest.F64
)
