package stagetraceexporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/collector/internal/pdataview"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// stageExporter opens the configured sinks on start and writes each batch
// of traces to them.
type stageExporter struct {
	cfg *Config
	// logger is the component's logger, which the sinks log their
	// warnings to.
	logger *slog.Logger
	w      *writer
}

func newStageExporter(cfg *Config, set *rules.Set, logger *slog.Logger) *stageExporter {
	return &stageExporter{cfg: cfg, logger: logger, w: newWriter(mapping.Options{StageEvents: cfg.StageEvents}, set)}
}

func (e *stageExporter) start(ctx context.Context, _ component.Host) error {
	var sinks []stagetrace.Sink
	if j := e.cfg.JSONL; j != nil {
		opts := []jsonlsink.Option{jsonlsink.WithLogger(e.logger)}
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
		opts := []sqlitesink.Option{sqlitesink.WithLogger(e.logger)}
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
	if p := e.cfg.Postgres; p != nil {
		opts := []postgressink.Option{postgressink.WithLogger(e.logger)}
		if p.TTL > 0 {
			opts = append(opts, postgressink.WithTTL(p.TTL))
		}
		if p.MaxConns > 0 {
			opts = append(opts, postgressink.WithMaxConns(p.MaxConns))
		}
		// The store's errors name the database with its password masked.
		s, err := postgressink.Open(ctx, string(p.URL), opts...)
		if err != nil {
			for _, o := range sinks {
				_ = o.Shutdown(context.Background())
			}
			return fmt.Errorf("postgres: %w", err)
		}
		sinks = append(sinks, s)
	}
	return e.w.setSinks(sinks)
}

func (e *stageExporter) shutdown(ctx context.Context) error { return e.w.shutdown(ctx) }

func (e *stageExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	return e.w.write(ctx, td)
}

// errNotStarted is returned by writes before start or after shutdown.
var errNotStarted = errors.New("stagetrace exporter: not started or shut down")

// writer maps pdata traces to stagetrace batches and writes them to its
// sinks: the same mapping.Mapper and exporter.Fanout as the SDK exporter,
// fed with pdata spans. It is safe for concurrent use.
type writer struct {
	mapper    *mapping.Mapper
	resources mapping.ResourceCache[string]

	mu    sync.RWMutex
	sinks *exporter.Fanout
	shut  bool
}

// newWriter returns a writer mapping with opts and applying set, when not
// nil, to each mapped span: the rules' end phase and the costs.
func newWriter(opts mapping.Options, set *rules.Set) *writer {
	if set != nil {
		// Only a non-nil set: a nil *rules.Set in the interface would not
		// compare equal to nil.
		opts.Enrich = set
	}
	return &writer{mapper: mapping.NewMapper(opts)}
}

// setSinks makes the writer write to sinks, which it then owns.
func (w *writer) setSinks(sinks []stagetrace.Sink) error {
	fan, err := exporter.NewFanout(0, sinks...)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sinks = fan
	return nil
}

// shutdown shuts the sinks down; calls after the first do nothing.
func (w *writer) shutdown(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut || w.sinks == nil {
		w.shut = true
		return nil
	}
	w.shut = true
	return w.sinks.Shutdown(ctx)
}

// batch maps td into a batch. Spans with an invalid trace or span id are
// dropped and counted.
func (w *writer) batch(td ptrace.Traces) (stagetrace.Batch, int) {
	n := td.SpanCount()
	if n == 0 {
		return stagetrace.Batch{}, 0
	}
	b := w.mapper.Batcher(n)
	view := &pdataview.Span{}
	invalid := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// One conversion per distinct resource content, across batches.
		r := rs.Resource()
		res := w.resources.Get(pdataview.ResourceKey(r), func() *stagetrace.Resource { return pdataview.Resource(r) })
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
	return w.mapper.Finish(b, n), invalid
}

// write maps td and writes it to every sink at once (exporter.Fanout). A
// failing sink does not stop the others; their errors, each naming its
// sink, are joined and retried. Spans that cannot be mapped (invalid ids)
// yield a permanent error, after the others are written.
func (w *writer) write(ctx context.Context, td ptrace.Traces) error {
	batch, invalid := w.batch(td)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.shut || w.sinks == nil {
		return consumererror.NewPermanent(errNotStarted)
	}
	if batch.Len() > 0 {
		if err := w.sinks.Write(ctx, batch); err != nil {
			return err
		}
	}
	if invalid > 0 {
		return consumererror.NewPermanent(fmt.Errorf("stagetrace exporter: dropped %d spans with an invalid trace or span id", invalid))
	}
	return nil
}
