// Command httpservice shows a run id crossing a service boundary: a
// client puts the run id in W3C baggage and calls a net/http service
// instrumented with otelhttp; the service, set up with setup.Install to
// trust the run.id baggage member, asks a fake LLM backend for a
// completion and records its gen_ai.* attributes and a finding. Every
// span, the client's, the service's and the LLM call's, lands in the
// client's run, which is printed at the end.
//
//	go run ./examples/httpservice -out ./stagetrace-out
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/setup"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
)

func main() {
	out := flag.String("out", "stagetrace-out", "directory the run is written to")
	runID := flag.String("run", "", "run id (default: ask-<time>)")
	flag.Parse()
	if *runID == "" {
		*runID = "ask-" + time.Now().UTC().Format("20060102-150405")
	}
	if err := run(context.Background(), *out, *runID, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "httpservice:", err)
		os.Exit(1)
	}
}

// completion is the fake LLM backend's answer.
type completion struct {
	Model        string `json:"model"`
	Text         string `json:"text"`
	InputTokens  int    `json:"input_tokens"`
	OutputTokens int    `json:"output_tokens"`
}

// run starts the LLM backend and the service on 127.0.0.1, asks the
// service one question as run runID, writes the run under dir and prints
// it to w.
func run(ctx context.Context, dir, runID string, w io.Writer) (err error) {
	jsonl, db := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "runs.db")
	// In a real service these would come from STAGETRACE_SINKS,
	// STAGETRACE_BAGGAGE_KEYS and STAGETRACE_PRESETS.
	inst, err := setup.Install(ctx,
		setup.WithSinkSpec("jsonl:"+jsonl+",sqlite:"+db),
		setup.WithBaggageKeys(string(attributes.RunID)),
		setup.WithPresets("genai"),
	)
	if err != nil {
		return err
	}
	tp := inst.TracerProvider()
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	otelOpts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop)}
	transport := &http.Transport{}
	client := &http.Client{Transport: otelhttp.NewTransport(transport, otelOpts...), Timeout: 10 * time.Second}
	defer transport.CloseIdleConnections()

	llm, err := serve(http.HandlerFunc(fakeLLM))
	if err != nil {
		return errors.Join(err, inst.Shutdown(ctx))
	}
	svc, err := serve(otelhttp.NewHandler(&service{llmURL: llm.url, client: client, tracer: tp.Tracer("httpservice/llm")}, "POST /ask", otelOpts...))
	if err != nil {
		return errors.Join(err, llm.close(ctx), inst.Shutdown(ctx))
	}

	answer, askErr := ask(ctx, client, tp.Tracer("httpservice/client"), svc.url, runID)
	transport.CloseIdleConnections()
	err = errors.Join(askErr, svc.close(ctx), llm.close(ctx), inst.Shutdown(ctx))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "answer: %s\n\n", answer)
	return printRun(ctx, w, db, runID)
}

// ask is the client: it puts runID in W3C baggage and asks the service.
func ask(ctx context.Context, client *http.Client, tracer trace.Tracer, url, runID string) (string, error) {
	ctx, err := attributes.BaggageWithRun(ctx, runID)
	if err != nil {
		return "", err
	}
	ctx, span := tracer.Start(ctx, "ask question")
	defer span.End()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/ask", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		span.SetStatus(codes.Error, resp.Status)
		return "", fmt.Errorf("service: %s: %s", resp.Status, body)
	}
	return string(body), nil
}

// service answers POST /ask by asking the LLM backend.
type service struct {
	llmURL string
	client *http.Client
	tracer trace.Tracer
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := attributes.ContextWithStage(r.Context(), "inference")
	ctx, span := s.tracer.Start(ctx, "chat fake-llm-1", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String(string(attributes.GenAIOperationName), "chat"),
			attribute.String("gen_ai.request.model", "fake-llm-1"),
		))
	defer span.End()
	c, err := s.complete(ctx)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	span.SetAttributes(
		attribute.String("gen_ai.response.model", c.Model),
		attribute.Int(string(attributes.GenAIUsageInputTokens), c.InputTokens),
		attribute.Int(string(attributes.GenAIUsageOutputTokens), c.OutputTokens),
	)
	attributes.SetFinding(span, "answer_chars", len(c.Text))
	_, _ = io.WriteString(w, c.Text)
}

// complete calls the LLM backend.
func (s *service) complete(ctx context.Context) (completion, error) {
	var c completion
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.llmURL+"/v1/completions", nil)
	if err != nil {
		return c, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return c, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("llm: %s", resp.Status)
	}
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// fakeLLM returns a canned completion with token counts.
func fakeLLM(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(completion{
		Model: "fake-llm-1", Text: "Runs are grouped by run.id.", InputTokens: 42, OutputTokens: 7,
	})
}

// server is an http.Server on a free port of 127.0.0.1.
type server struct {
	url  string
	srv  *http.Server
	done chan error
}

func serve(h http.Handler) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + l.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// close shuts the server down and waits for it.
func (s *server) close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// printRun prints run runID from the store at dbPath.
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
