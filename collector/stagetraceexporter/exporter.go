package stagetraceexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/collector/internal/pdataview"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// stageExporter opens the configured sinks on start and writes each batch
// of traces to them.
type stageExporter struct {
	cfg *Config
	w   *writer
}

func newStageExporter(cfg *Config, set *rules.Set) *stageExporter {
	return &stageExporter{cfg: cfg, w: newWriter(mapping.Options{StageEvents: cfg.StageEvents}, set)}
}

func (e *stageExporter) start(context.Context, component.Host) error {
	var sinks []stagetrace.Sink
	if j := e.cfg.JSONL; j != nil {
		var opts []jsonlsink.Option
		if j.MaxSizeBytes > 0 {
			opts = append(opts, jsonlsink.WithMaxSize(j.MaxSizeBytes))
		}
		if j.MaxBackups > 0 {
			opts = append(opts, jsonlsink.WithMaxBackups(j.MaxBackups))
		}
		s, err := jsonlsink.New(j.Path, opts...)
		if err != nil {
			return fmt.Errorf("jsonl: %w", err)
		}
		sinks = append(sinks, s)
	}
	if q := e.cfg.SQLite; q != nil {
		var opts []sqlitesink.Option
		if q.TTL > 0 {
			opts = append(opts, sqlitesink.WithTTL(q.TTL))
		}
		s, err := sqlitesink.Open(q.Path, opts...)
		if err != nil {
			for _, o := range sinks {
				_ = o.Shutdown(context.Background())
			}
			return fmt.Errorf("sqlite: %w", err)
		}
		sinks = append(sinks, s)
	}
	e.w.setSinks(sinks)
	return nil
}

func (e *stageExporter) shutdown(ctx context.Context) error { return e.w.shutdown(ctx) }

func (e *stageExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	return e.w.write(ctx, td)
}

// errNotStarted is returned by writes before start or after shutdown.
var errNotStarted = errors.New("stagetrace exporter: not started or shut down")

// writer maps pdata traces to stagetrace batches and writes them to its
// sinks. It is safe for concurrent use.
type writer struct {
	opts mapping.Options

	mu    sync.RWMutex
	sinks []stagetrace.Sink
	shut  bool

	attrsPerSpan atomic.Int64
	resources    resourceCache
}

func newWriter(opts mapping.Options, set *rules.Set) *writer {
	if set != nil {
		// Only a non-nil set: a nil *rules.Set in the interface would not
		// compare equal to nil.
		opts.Enrich = set
	}
	w := &writer{opts: opts}
	w.attrsPerSpan.Store(8)
	return w
}

func (w *writer) setSinks(s []stagetrace.Sink) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sinks = s
}

// shutdown shuts the sinks down; calls after the first do nothing.
func (w *writer) shutdown(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return nil
	}
	w.shut = true
	var errs []error
	for _, s := range w.sinks {
		errs = append(errs, s.Shutdown(ctx))
	}
	w.sinks = nil
	return errors.Join(errs...)
}

// batch maps td into a batch. Spans with an invalid trace or span id are
// dropped and counted.
func (w *writer) batch(td ptrace.Traces) (stagetrace.Batch, int) {
	n := td.SpanCount()
	if n == 0 {
		return stagetrace.Batch{}, 0
	}
	b := mapping.NewBatcher(w.opts, n, int(w.attrsPerSpan.Load()))
	view := &pdataview.Span{}
	invalid := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// One conversion per ResourceSpans, shared by equal resources.
		res := w.resources.get(rs)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			view.ScopeName = ss.Scope().Name()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
					invalid++
					continue
				}
				view.Span = s
				b.Add(view, res)
			}
		}
	}
	if per := b.AttrCount() / n; per > 0 {
		w.attrsPerSpan.Store(int64(per + 1))
	}
	return b.Batch(), invalid
}

// write maps td and writes it to every sink. A failing sink does not stop
// the others; their errors are joined and retried. Spans that cannot be
// mapped (invalid ids) yield a permanent error, after the others are
// written.
func (w *writer) write(ctx context.Context, td ptrace.Traces) error {
	batch, invalid := w.batch(td)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.shut || w.sinks == nil {
		return consumererror.NewPermanent(errNotStarted)
	}
	var errs []error
	if batch.Len() > 0 {
		for _, s := range w.sinks {
			if err := s.Write(ctx, batch); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if invalid > 0 {
		return consumererror.NewPermanent(fmt.Errorf("stagetrace exporter: dropped %d spans with an invalid trace or span id", invalid))
	}
	return nil
}

// maxResources bounds the resource cache: many distinct resources mean
// resources are being made per span upstream.
const maxResources = 256

// resourceCache converts each distinct resource content once, so spans
// of equal resources share one *stagetrace.Resource across batches.
type resourceCache struct {
	mu sync.Mutex
	m  map[string]*stagetrace.Resource
}

func (c *resourceCache) get(rs ptrace.ResourceSpans) *stagetrace.Resource {
	r := rs.Resource()
	key := pdataview.ResourceKey(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if res, ok := c.m[key]; ok {
		return res
	}
	if c.m == nil || len(c.m) >= maxResources {
		c.m = make(map[string]*stagetrace.Resource)
	}
	res := pdataview.Resource(r)
	c.m[key] = res
	return res
}
