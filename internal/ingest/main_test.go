package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// No goroutine outlives the tests: servers, receivers and their writers
// all stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
