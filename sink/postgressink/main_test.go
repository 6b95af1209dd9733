package postgressink_test

import (
	"os"
	"testing"

	"github.com/stagetrace/stagetrace/internal/pgtest"
)

func TestMain(m *testing.M) {
	// The writer process of TestTwoProcessesOneRollup.
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(childWriter(url))
	}
	os.Exit(pgtest.MainCheckingLeaks(m))
}
