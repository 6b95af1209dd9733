// Command quickstart runs one turn of a retrieval-augmented chatbot,
// instrumented with OpenTelemetry, through stagetrace: the processor puts
// every span in the run and its stage, the exporter writes the run to a
// JSONL file, to a SQLite store, to memory and to a monitor with two alert
// rules. The chatbot also logs through log/slog, bridged to the Logs SDK
// (otelslog): each log record lands in the run and stage of the span it
// was logged in, in the same sinks. The run is printed from the store the way "stagetrace show"
// prints it, then the monitor's token usage by model and the alerts it
// raised, and the run is written as an HTML report, out/report.html.
//
//	go run ./examples/quickstart -out ./stagetrace-out
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/bridge"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/report"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
)

func main() {
	out := flag.String("out", "stagetrace-out", "directory the run is written to")
	runID := flag.String("run", "", "run id (default: turn-<time>)")
	flag.Parse()
	if *runID == "" {
		*runID = "turn-" + time.Now().UTC().Format("20060102-150405")
	}
	if err := run(context.Background(), *out, *runID, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run executes one chatbot turn as run runID and writes it under dir.
func run(ctx context.Context, dir, runID string, w io.Writer) error {
	path := filepath.Join(dir, "runs.jsonl")
	file, err := jsonlsink.New(path)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(dir, "runs.db")
	store, err := sqlitesink.Open(dbPath)
	if err != nil {
		return errors.Join(err, file.Shutdown(ctx))
	}
	mem := memsink.New()
	mon, err := monitor.New(monitor.WithAlerts(demoAlerts()...))
	if err != nil {
		return errors.Join(err, file.Shutdown(ctx), store.Shutdown(ctx))
	}
	// The GenAI preset turns the gen_ai.usage.* attributes the LLM client
	// sets into token findings and the response model into a model
	// finding; the price table adds a cost finding per LLM call.
	genai, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}, Prices: demoPrices()})
	if err != nil {
		return errors.Join(err, file.Shutdown(ctx), store.Shutdown(ctx), mon.Shutdown(ctx))
	}
	exp, err := exporter.New(exporter.WithSinks(file, store, mem, mon), exporter.WithStageEvents(), exporter.WithRules(genai))
	if err != nil {
		return errors.Join(err, file.Shutdown(ctx), store.Shutdown(ctx), mon.Shutdown(ctx))
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "chatbot"),
		attribute.String("deployment.environment", "demo"),
	)
	sp := processor.New()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(sp),
		sdktrace.WithBatcher(exp),
	)
	// Logs go to the same sinks, through the span exporter's fan-out; the
	// log processor places each record as sp places spans.
	lexp, err := logexporter.New(logexporter.WithFanout(exp.Fanout()))
	if err != nil {
		return errors.Join(err, tp.Shutdown(ctx))
	}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(logexporter.NewProcessor(sp)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)),
	)
	log := otelslog.NewLogger("chatbot", otelslog.WithLoggerProvider(lp))

	turnErr := chatTurn(ctx, tp, log, runID)
	// Shutdown flushes the batchers and shuts the sinks down: after it
	// returns, every span and log record is in the file and in the store.
	// The LoggerProvider goes first: the span exporter owns the sinks.
	if err := errors.Join(lp.Shutdown(ctx), tp.Shutdown(ctx)); err != nil {
		return errors.Join(turnErr, err)
	}
	if turnErr != nil {
		return turnErr
	}

	fmt.Fprintf(w, "wrote %d spans and %d events to %s and %s\n\n", len(mem.Spans()), len(mem.Events()), path, dbPath)
	if err := printRun(ctx, w, dbPath, runID); err != nil {
		return err
	}

	// The exporter has shut the monitor down with the other sinks, which
	// delivered its queued alerts; ForceFlush is then a no-op, but a
	// program reading a live monitor calls it first. Alerts() records
	// every alert as it is raised, and the monitor can still be read.
	if err := mon.ForceFlush(ctx); err != nil {
		return err
	}
	usage := mon.TokenUsage(24 * time.Hour)
	alerts := mon.Alerts()
	fmt.Fprintln(w)
	printUsage(w, usage)
	fmt.Fprintln(w)
	printAlerts(w, alerts)

	d := report.FromRecords(mem.Spans(), mem.Events())
	d.Generated = time.Now()
	d.Tokens = &usage
	d.Alerts = alerts
	htmlPath := filepath.Join(dir, "report.html")
	if err := report.WriteFile(htmlPath, d); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwrote %s\n", htmlPath)
	return nil
}

// demoAlerts are the monitor's alert rules: one on the judge's safety
// score, which this turn passes, one on the inference stage's error rate,
// which the rate-limited call trips, and one on error log records, which
// its log line trips.
func demoAlerts() []alert.Rule {
	return []alert.Rule{
		{
			Name: "unsafe-answers", Level: alert.LevelCritical,
			Metric: "finding:response_safe_score",
			Where:  &alert.Condition{Op: query.OpLt, Value: 0.5},
			Stat:   alert.StatCount, Op: query.OpGe, Threshold: 1,
			Window:  10 * time.Minute,
			Message: "an answer was judged unsafe",
		},
		{
			Name: "inference-errors", Level: alert.LevelWarning,
			Metric: "stage:inference",
			Stat:   alert.StatErrorRate, Op: query.OpGt, Threshold: 0.2,
			Window: 5 * time.Minute, MinCount: 2,
			Message: "inference spans are failing",
		},
		{
			// Counts the error (and critical) log records of the window,
			// whichever logger wrote them.
			Name: "error-logs", Level: alert.LevelWarning,
			Metric: "log:error",
			Stat:   alert.StatCount, Op: query.OpGe, Threshold: 1,
			Window:  5 * time.Minute,
			Message: "the chatbot logged errors",
		},
	}
}

// printUsage prints token usage as a table, one row per model.
func printUsage(w io.Writer, u monitor.TokenUsageReport) {
	fmt.Fprintln(w, "token usage by model")
	if len(u.Models) == 0 {
		fmt.Fprintln(w, "  no spans reported tokens")
		return
	}
	rows := u.Models
	if len(rows) > 1 {
		rows = append(rows, u.Total)
	}
	width := len("MODEL")
	for _, m := range rows {
		width = max(width, len(m.Model))
	}
	fmt.Fprintf(w, "  %-*s %8s %8s %8s %8s  %s\n", width, "MODEL", "INPUT", "OUTPUT", "CACHE", "TOTAL", "COST")
	for _, m := range rows {
		cost := "-"
		switch {
		case m.CostUnknown:
			cost = "unknown (currencies differ)"
		case m.HasCost():
			cost = fmt.Sprintf("%.4f %s", m.Cost, m.Currency)
		}
		fmt.Fprintf(w, "  %-*s %8d %8d %8d %8d  %s\n", width, m.Model, m.InputTokens, m.OutputTokens,
			m.CacheReadInputTokens+m.CacheCreationInputTokens, m.TotalTokens, cost)
	}
}

// printAlerts prints the alerts raised: level, rule and message.
func printAlerts(w io.Writer, alerts []alert.Alert) {
	fmt.Fprintln(w, "alerts")
	if len(alerts) == 0 {
		fmt.Fprintln(w, "  no alerts fired")
		return
	}
	for _, a := range alerts {
		fmt.Fprintf(w, "  %-8s %s (%s): %s\n", a.Level, a.Name, a.State, a.Message)
	}
}

// printRun prints run runID as read back from the store at dbPath, with
// the code "stagetrace show" uses.
func printRun(ctx context.Context, w io.Writer, dbPath, runID string) (err error) {
	store, err := sqlitesink.OpenReadOnly(dbPath)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	r, err := store.Run(ctx, runID)
	if err != nil {
		return err
	}
	records, err := store.RunRecords(ctx, runID)
	if err != nil {
		return err
	}
	return summary.WriteTree(w, r, records, summary.TreeOptions{})
}

// chatTurn answers one question: retrieve documents, ask the model (the
// first call is rate limited and retried), then evaluate the answer.
func chatTurn(ctx context.Context, tp trace.TracerProvider, log *slog.Logger, runID string) error {
	tracer := tp.Tracer("chatbot/rag")
	llm := tp.Tracer("chatbot/llm")

	ctx = attributes.ContextWithRun(ctx, runID)
	ctx, turn := tracer.Start(ctx, "chat turn", trace.WithSpanKind(trace.SpanKindServer))
	defer turn.End()

	// Retrieval: one stage, two spans; the search inherits the stage.
	rctx, retrieve := tracer.Start(attributes.ContextWithStage(ctx, "retrieval"), "retrieve documents")
	_, search := tracer.Start(rctx, "vector search", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "qdrant"), attribute.Int("search.top_k", 4)))
	work(12 * time.Millisecond)
	attributes.SetFinding(search, "documents", 4)
	attributes.SetFinding(search, "retrieval_score", 0.82)
	search.End()
	retrieve.End()

	// Inference: the first call is rate limited, the retry answers.
	ictx, infer := tracer.Start(attributes.ContextWithStage(ctx, "inference"), "generate answer")
	for attempt := 1; attempt <= 2; attempt++ {
		cctx, call := llm.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(
				attribute.String("gen_ai.operation.name", "chat"),
				attribute.String("gen_ai.request.model", "gpt-4o"),
				attribute.Int("llm.attempt", attempt),
			))
		if attempt == 1 {
			work(3 * time.Millisecond)
			err := errors.New("429 rate limited: retry after 20ms")
			call.RecordError(err)
			call.SetStatus(codes.Error, err.Error())
			// Logged in the call's context: the records land in its run
			// and stage, with its trace and span ids.
			log.ErrorContext(cctx, "gpt-4o call failed", "status", 429, "error", err.Error())
			call.End()
			log.WarnContext(ictx, "rate limited: retrying", "retry_after_ms", 20, "attempt", attempt+1)
			work(20 * time.Millisecond)
			continue
		}
		work(40 * time.Millisecond)
		attributes.RecordMetric(call, "time_to_first_token", 41.5, "ms")
		call.SetAttributes(
			attribute.String("gen_ai.response.model", "gpt-4o-2024-08-06"),
			attribute.Int("gen_ai.usage.input_tokens", 812),
			attribute.Int("gen_ai.usage.output_tokens", 95),
			attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}),
		)
		call.SetStatus(codes.Ok, "")
		call.End()
	}
	infer.End()

	// Evaluation: a judge scores the answer.
	_, judge := tracer.Start(attributes.ContextWithStage(ctx, "evaluation"), "judge answer")
	work(8 * time.Millisecond)
	attributes.SetFinding(judge, "response_safe_score", 0.97)
	attributes.SetFinding(judge, "faithfulness", 0.88)
	attributes.SetFinding(judge, "latency_budget_ok", true)
	judge.End()

	// A measurement made outside any span, recorded through the bridge.
	b := bridge.New(tracer, runID, bridge.WithParent(ctx))
	b.CustomMetric("documents_per_second", 333)
	return nil
}

// demoPrices is an example price table, in USD per million tokens.
func demoPrices() *rules.Prices {
	cacheRead := 1.25
	return &rules.Prices{Currency: "USD", Models: []rules.ModelPrice{
		{Model: "gpt-4o*", Input: 2.50, Output: 10.00, CacheRead: &cacheRead},
	}}
}

// work stands in for the real call.
func work(d time.Duration) { time.Sleep(d) }
