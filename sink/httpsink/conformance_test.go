package httpsink_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/httpsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		var stall stallGate
		srv := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) int {
			stall.wait(r)
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
			Stall: stall.start,
		}
	})
}

// stallGate holds the server's answers while it is on.
type stallGate struct {
	mu      sync.Mutex
	hold    chan struct{} // closed to answer again; nil when not stalled
	stalled chan struct{} // closed once a request is held
	once    sync.Once
}

func (g *stallGate) start(*testing.T) (<-chan struct{}, func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold, g.stalled = make(chan struct{}), make(chan struct{})
	hold := g.hold
	return g.stalled, func() { close(hold) }
}

// wait holds a request until the stall ends or the client gives up.
func (g *stallGate) wait(r *http.Request) {
	g.mu.Lock()
	hold, stalled := g.hold, g.stalled
	g.mu.Unlock()
	if hold == nil {
		return
	}
	g.once.Do(func() { close(stalled) })
	select {
	case <-hold:
	case <-r.Context().Done():
	}
}
