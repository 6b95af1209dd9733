package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pdataview"
	"github.com/stagetrace/stagetrace/mapping"
)

// Errors of Receiver.ConsumeTraces and ConsumeLogs: both ask the client
// to retry later.
var (
	// ErrQueueFull is a request refused because the queue is full.
	ErrQueueFull = errors.New("ingest: queue full, retry later")
	// ErrShuttingDown is a request refused because the receiver is
	// shutting down.
	ErrShuttingDown = errors.New("ingest: shutting down")
)

// Receiver maps OTLP requests to batches and writes them to a sink
// through a bounded queue. Its HTTPHandler and RegisterGRPC serve OTLP;
// it is safe for concurrent use.
type Receiver struct {
	cfg  config
	sink stagetrace.Sink
	m    *mapper

	mu     sync.RWMutex
	closed bool
	queue  chan stagetrace.Batch
	done   chan struct{}
	// writeCtx is the context of the sink's writes; Shutdown cancels it
	// when its own context ends first, so that the writer stops.
	writeCtx     context.Context
	cancelWrites context.CancelFunc

	statsMu sync.Mutex
	stats   Stats
}

// Stats counts what a Receiver did.
type Stats struct {
	// Spans and Logs are the records queued.
	Spans, Logs int64
	// Rejected are spans refused for an invalid trace or span id.
	Rejected int64
	// Refused are requests refused because the queue was full.
	Refused int64
	// WriteErrors are batches the sink failed to write.
	WriteErrors int64
}

// New returns a Receiver writing to sink, which it does not own: shut the
// sink down after the Receiver.
func New(sink stagetrace.Sink, opts ...Option) (*Receiver, error) {
	if sink == nil {
		return nil, errors.New("ingest: no sink")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	r := &Receiver{
		cfg:   cfg,
		sink:  sink,
		m:     newMapper(cfg),
		queue: make(chan stagetrace.Batch, cfg.queueSize),
		done:  make(chan struct{}),
	}
	r.writeCtx, r.cancelWrites = context.WithCancel(context.Background())
	go r.drain()
	return r, nil
}

// drain writes each queued batch to the sink until the queue is closed.
func (r *Receiver) drain() {
	defer close(r.done)
	for b := range r.queue {
		if err := r.sink.Write(r.writeCtx, b); err != nil {
			r.count(func(s *Stats) { s.WriteErrors++ })
			r.cfg.logger.Error("stagetrace serve: writing a batch failed", "spans", len(b.Spans), "events", len(b.Events), "err", err)
		}
	}
}

func (r *Receiver) count(f func(*Stats)) {
	r.statsMu.Lock()
	f(&r.stats)
	r.statsMu.Unlock()
}

// Stats returns the counts so far.
func (r *Receiver) Stats() Stats {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	return r.stats
}

// ConsumeTraces places and maps the spans of td and queues them. It
// returns the number of spans rejected for an invalid trace or span id,
// with a message for the client's partial-success response, or
// ErrQueueFull or ErrShuttingDown, when nothing was queued. td is
// modified (placement adds run.id and run.stage).
func (r *Receiver) ConsumeTraces(td ptrace.Traces) (rejected int, msg string, err error) {
	b, invalid := r.m.traces(td)
	if invalid > 0 {
		msg = fmt.Sprintf("%d spans with an invalid trace or span id were dropped", invalid)
	}
	if err := r.enqueue(b); err != nil {
		return 0, "", err
	}
	r.count(func(s *Stats) { s.Spans += int64(len(b.Spans)); s.Rejected += int64(invalid) })
	return invalid, msg, nil
}

// ConsumeLogs places and maps the log records of ld and queues them, or
// returns ErrQueueFull or ErrShuttingDown.
func (r *Receiver) ConsumeLogs(ld plog.Logs) error {
	b := r.m.logs(ld)
	if err := r.enqueue(b); err != nil {
		return err
	}
	r.count(func(s *Stats) { s.Logs += int64(len(b.Events)) })
	return nil
}

func (r *Receiver) enqueue(b stagetrace.Batch) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return ErrShuttingDown
	}
	if b.Len() == 0 {
		return nil
	}
	select {
	case r.queue <- b:
		return nil
	default:
		r.count(func(s *Stats) { s.Refused++ })
		return ErrQueueFull
	}
}

// Shutdown refuses new requests and waits until every queued batch is
// written to the sink. When ctx ends first, the sink's writes are
// cancelled, what is left in the queue is dropped (and logged) and the
// writer stops before Shutdown returns ctx's error. Calls after the first
// wait the same way.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		r.cancelWrites()
		return nil
	case <-ctx.Done():
		r.cancelWrites()
		<-r.done
		return fmt.Errorf("ingest: shutdown before the queue drained: %w", ctx.Err())
	}
}

// mapper places and maps requests: the collector's placement and mapping
// (internal/pdataview), with the receiver's rules.
type mapper struct {
	placer    *pdataview.Placer
	mapper    *mapping.Mapper
	resources mapping.ResourceCache[string]
}

func newMapper(cfg config) *mapper {
	mo := mapping.Options{StageEvents: cfg.stageEvents}
	if cfg.rules != nil {
		// Only a non-nil set: a nil *rules.Set in the interface would not
		// compare equal to nil.
		mo.Enrich = cfg.rules
	}
	return &mapper{placer: pdataview.NewPlacer("", "", cfg.rules), mapper: mapping.NewMapper(mo)}
}

// traces places and maps td (which it modifies): the batch, and the
// number of spans dropped for an invalid id.
func (m *mapper) traces(td ptrace.Traces) (stagetrace.Batch, int) {
	m.placer.Place(td)
	return pdataview.Traces(m.mapper, &m.resources, td)
}

// logs places and maps ld (which it modifies).
func (m *mapper) logs(ld plog.Logs) stagetrace.Batch {
	m.placer.PlaceLogs(ld)
	return pdataview.Logs(ld)
}
