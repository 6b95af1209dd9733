package sqlitesink_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The second writer process of TestTwoProcessesWriteOneFile.
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(childWriter(path))
	}
	goleak.VerifyTestMain(m)
}
