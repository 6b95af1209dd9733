package memsink_test

import (
	"testing"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(*testing.T) sinktest.Harness {
		s := memsink.New()
		return sinktest.Harness{Sink: s, Read: func(*testing.T) stagetrace.Batch {
			return stagetrace.Batch{Spans: s.Spans(), Events: s.Events()}
		}}
	})
}
