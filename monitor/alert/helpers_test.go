package alert_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace/monitor/internal/monitortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0  = monitortest.T0
	ptr = monitortest.Ptr[float64]
)
