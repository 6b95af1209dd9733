package httpsink_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/httpsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		var gate sinktest.Gate
		srv := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) int {
			_ = gate.Wait(r.Context()) // a cancelled request gets no answer anyway
			return http.StatusOK
		})
		s, err := httpsink.New(srv.URL)
		require.NoError(t, err)
		return sinktest.Harness{
			Sink: s,
			Read: func(*testing.T) stagetrace.Batch {
				var b stagetrace.Batch
				for _, req := range srv.received() {
					b.Spans = append(b.Spans, req.body.Spans...)
					b.Events = append(b.Events, req.body.Events...)
				}
				return b
			},
			Stall:              gate.Stall,
			RefusesDoneContext: true,
		}
	})
}
