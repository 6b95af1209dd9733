package stagetraceexporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/pdataview"
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
		if j.PreallocateBytes != nil {
			opts = append(opts, jsonlsink.WithPreallocate(*j.PreallocateBytes))
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
			shutdownAll(sinks)
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
			shutdownAll(sinks)
			return fmt.Errorf("postgres: %w", err)
		}
		sinks = append(sinks, s)
	}
	return e.w.setSinks(sinks)
}

// shutdownAll shuts down the sinks start opened before one failed to open.
func shutdownAll(sinks []stagetrace.Sink) {
	for _, s := range sinks {
		_ = s.Shutdown(context.Background())
	}
}

func (e *stageExporter) shutdown(ctx context.Context) error { return e.w.shutdown(ctx) }

func (e *stageExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	return e.w.write(ctx, td)
}

func (e *stageExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	return e.w.writeLogs(ctx, ld)
}

// errNotStarted is returned by writes before start or after shutdown.
var errNotStarted = errors.New("stagetrace exporter: not started or shut down")

// writer maps pdata traces to stagetrace batches and writes them to its
// sinks: the same mapping.Mapper and exporter.Fanout as the SDK exporter,
// fed with pdata spans. It is safe for concurrent use.
type writer struct {
	mapper    *mapping.Mapper
	resources mapping.ResourceCache[string]
	// arrays is what the last write mapped into, once every sink released
	// its batch: the next write, and each part of a large one, maps into
	// the same arrays, as the SDK exporter does; logArrays is the same
	// for the logs, which a component in both pipelines writes at once.
	arrays, logArrays exporter.Reuse[pdataview.Arrays]

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
	// The arrays of the last batches are of no more use.
	w.arrays.Drop()
	w.logArrays.Drop()
	return w.sinks.Shutdown(ctx)
}

// parts maps td into batches of at most exporter.MaxWriteSpans spans, in
// order, as the SDK exporter writes a large export (pdataview.TraceParts),
// each into *a, which f may replace.
func (w *writer) parts(td ptrace.Traces, a **pdataview.Arrays, f func(b stagetrace.Batch, covered, invalid int) bool) {
	pdataview.TraceParts(w.mapper, &w.resources, td, exporter.MaxWriteSpans, a, f)
}

// write maps td and writes it to every sink at once (exporter.Fanout), in
// parts of at most exporter.MaxWriteSpans spans, as the SDK exporter does,
// so that a large batch costs no more per span than a small one. A failing
// sink does not stop the others; their errors, each naming its sink, are
// joined and retried. When a part fails after others were written, the
// error carries only the spans not yet written (consumererror.Traces), so
// that a retry does not write the others again. Spans that cannot be
// mapped (invalid ids) yield a permanent error, after the others are
// written.
func (w *writer) write(ctx context.Context, td ptrace.Traces) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.shut || w.sinks == nil {
		return consumererror.NewPermanent(errNotStarted)
	}
	var err error
	written, invalid := 0, 0
	st := w.arrays.Take()
	w.parts(td, &st, func(b stagetrace.Batch, covered, inv int) bool {
		if b.Len() > 0 {
			// A sink abandoned at its timeout may still read the batch:
			// its arrays are then left to it, and st is new.
			if err = w.arrays.Write(ctx, w.sinks, &st, b); err != nil {
				return false
			}
		}
		written, invalid = written+covered, invalid+inv
		return true
	})
	// No sink holds the last batch (they copy what they keep): its arrays
	// serve the next write.
	w.arrays.Keep(st)
	if err != nil {
		if written == 0 {
			return err
		}
		return consumererror.NewTraces(err, spansFrom(td, written))
	}
	if invalid > 0 {
		return consumererror.NewPermanent(fmt.Errorf("stagetrace exporter: dropped %d spans with an invalid trace or span id", invalid))
	}
	return nil
}

// writeLogs maps ld and writes it to every sink at once, into the arrays
// of the last logs written, as write does for traces.
func (w *writer) writeLogs(ctx context.Context, ld plog.Logs) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.shut || w.sinks == nil {
		return consumererror.NewPermanent(errNotStarted)
	}
	if ld.LogRecordCount() == 0 {
		return nil
	}
	st := w.logArrays.Take()
	err := w.logArrays.Write(ctx, w.sinks, &st, pdataview.LogsInto(st, ld))
	w.logArrays.Keep(st)
	return err
}

// spansFrom returns the spans of td from the n-th on (in the order of td),
// with their resources and scopes.
func spansFrom(td ptrace.Traces, n int) ptrace.Traces {
	out := ptrace.NewTraces()
	idx := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		var ors ptrace.ResourceSpans
		haveRS := false
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			var oss ptrace.ScopeSpans
			haveSS := false
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				if idx++; idx <= n {
					continue
				}
				if !haveRS {
					ors = out.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(ors.Resource())
					ors.SetSchemaUrl(rs.SchemaUrl())
					haveRS = true
				}
				if !haveSS {
					oss = ors.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(oss.Scope())
					oss.SetSchemaUrl(ss.SchemaUrl())
					haveSS = true
				}
				spans.At(k).CopyTo(oss.Spans().AppendEmpty())
			}
		}
	}
	return out
}
