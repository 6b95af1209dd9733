package stagetraceexporter

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// A component used in a traces and a logs pipeline gets one exporter per
// pipeline from the Collector, with the same configuration. Both must
// write to the same sinks: a JSONL file is locked by the sink writing it,
// and two stores on one SQLite file would contend. So the exporters of one
// configuration share one stageExporter: its sinks open at the first
// Start and close at the last Shutdown.

// sharedExporter is the stageExporter of one configuration and its users.
type sharedExporter struct {
	cfg *Config
	e   *stageExporter

	mu       sync.Mutex
	users    int  // exporters made and not yet shut down
	started  bool // the sinks are open
	startErr error
}

var shared = struct {
	sync.Mutex
	m map[*Config]*sharedExporter
}{m: map[*Config]*sharedExporter{}}

// acquire returns the shared exporter of cfg, made with newExporter when
// there is none, and counts one more user.
func acquire(cfg *Config, newExporter func() *stageExporter) *sharedExporter {
	shared.Lock()
	defer shared.Unlock()
	s := shared.m[cfg]
	if s == nil {
		s = &sharedExporter{cfg: cfg, e: newExporter()}
		shared.m[cfg] = s
	}
	s.mu.Lock()
	s.users++
	s.mu.Unlock()
	return s
}

// start opens the sinks on the first call; later calls return its result.
func (s *sharedExporter) start(ctx context.Context, host component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		s.startErr = s.e.start(ctx, host)
	}
	return s.startErr
}

// shutdown is one user's shutdown: the last one shuts the sinks down, and
// the configuration gets a new exporter if it is used again.
func (s *sharedExporter) shutdown(ctx context.Context) error {
	shared.Lock()
	s.mu.Lock()
	s.users--
	last := s.users <= 0
	if last && shared.m[s.cfg] == s {
		delete(shared.m, s.cfg)
	}
	s.mu.Unlock()
	shared.Unlock()
	if !last {
		return nil
	}
	return s.e.shutdown(ctx)
}
