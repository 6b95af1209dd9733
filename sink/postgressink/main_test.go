package postgressink_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace/internal/pgtest"
)

func TestMain(m *testing.M) {
	// The writer process of TestTwoProcessesOneRollup.
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(childWriter(url))
	}
	os.Exit(pgtest.Main(goleakMain{m}))
}

// goleakMain checks, after the tests, that none left a goroutine behind.
type goleakMain struct{ m *testing.M }

func (g goleakMain) Run() int {
	code := g.m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			return 1
		}
	}
	return code
}
