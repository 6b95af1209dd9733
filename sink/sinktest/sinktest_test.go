package sinktest_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

// defectEnv names the defect the child process's sink has.
const defectEnv = "SINKTEST_DEFECT"

// The suite passes a sound sink and fails each defective one, with a
// message that names the broken promise. Defective sinks run in a child
// process, since their failures are the point.
func TestSuite(t *testing.T) {
	if d := os.Getenv(defectEnv); d != "" {
		sinktest.Run(t, func(*testing.T) sinktest.Harness { return newFake(d).harness() })
		return
	}
	t.Run("sound", func(t *testing.T) {
		sinktest.Run(t, func(*testing.T) sinktest.Harness { return newFake("").harness() })
	})
	for defect, want := range map[string]string{
		"open after shutdown":  "Write of a batch after Shutdown",
		"loses events":         "event not delivered",
		"rounds times":         "span delivered changed",
		"duplicates":           "span delivered twice",
		"shutdown fails again": "second Shutdown after one that succeeded",
		"leaks a goroutine":    "found unexpected goroutines",
		"honours no deadline":  "Shutdown returns before its deadline",
		"fails when cancelled": "Shutdown with a done context and nothing pending",
		"keeps the batch":      "must keep a copy",
	} {
		t.Run(defect, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuite$", "-test.count=1")
			cmd.Env = append(os.Environ(), defectEnv+"="+defect)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed a sink that %s:\n%s", defect, out)
			assert.Contains(t, string(out), want)
		})
	}
}

// fake is an in-memory sink with one defect, or none.
type fake struct {
	defect string
	mu     sync.Mutex
	spans  []stagetrace.StageSpan
	events []stagetrace.TraceEvent
	closed bool
	stop   chan struct{}
}

func newFake(defect string) *fake {
	f := &fake{defect: defect, stop: make(chan struct{})}
	go func() { <-f.stop }()
	return f
}

func (f *fake) harness() sinktest.Harness {
	return sinktest.Harness{Sink: f, Read: func(*testing.T) stagetrace.Batch {
		f.mu.Lock()
		defer f.mu.Unlock()
		return stagetrace.Batch{Spans: slices.Clone(f.spans), Events: slices.Clone(f.events)}
	}}
}

func (f *fake) Write(_ context.Context, b stagetrace.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed && f.defect != "open after shutdown" {
		return stagetrace.ErrClosed
	}
	if f.defect != "keeps the batch" {
		b = b.Clone() // the caller may reuse b's arrays once Write returns
	}
	for _, s := range b.Spans {
		if f.defect == "rounds times" {
			s.StartTime = s.StartTime.Round(time.Microsecond)
		}
		f.spans = append(f.spans, s)
		if f.defect == "duplicates" {
			f.spans = append(f.spans, s)
		}
	}
	if f.defect != "loses events" {
		f.events = append(f.events, b.Events...)
	}
	return nil
}

func (f *fake) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		if f.defect == "shutdown fails again" {
			return stagetrace.ErrClosed
		}
		return nil
	}
	f.closed = true
	if dl, ok := ctx.Deadline(); ok && f.defect == "honours no deadline" && time.Until(dl) < 5*time.Second {
		time.Sleep(time.Until(dl) + 100*time.Millisecond)
	}
	if f.defect != "leaks a goroutine" {
		close(f.stop)
	}
	if f.defect == "fails when cancelled" {
		return ctx.Err()
	}
	return nil
}
