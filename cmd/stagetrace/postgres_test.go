package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/sink/postgressink"
)

// TestPostgresDB reads the same runs from a SQLite file and from a
// PostgreSQL database given to --db as a postgres:// URL: every
// subcommand prints the same.
func TestPostgresDB(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	// The records in the order they were written to the SQLite file,
	// which orders ties.
	f, err := os.Open(filepath.Join(dir, "stagetrace-out", "runs.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var all stagetrace.Batch
	for dec := stagetrace.NewDecoder(f); ; {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if rec.Span != nil {
			all.Spans = append(all.Spans, *rec.Span)
		} else {
			all.Events = append(all.Events, *rec.Event)
		}
	}
	url := pgtest.URL(t)
	ctx := context.Background()
	store, err := postgressink.Open(ctx, url)
	require.NoError(t, err)
	require.NoError(t, store.Write(ctx, all))
	require.NoError(t, store.Close())

	sqlite := filepath.Join(dir, "stagetrace-out", "runs.db")
	for _, args := range [][]string{
		{"runs"}, {"runs", "--json"}, {"runs", "--where", "finding.input_tokens>1000"},
		{"spans", "--where", "stage=inference", "--order-by", "finding.input_tokens", "--desc"},
		{"spans", "--where", "name~^chat"},
		{"show", "turn-1"}, {"show", "turn-2", "--json"},
		{"export", "--format", "csv"}, {"export", "--format", "jsonl", "--where", "status=error"},
		{"sessions"},
	} {
		want := runCLI(append(args, "--db", sqlite)...)
		got := runCLI(append(args, "--db", url)...)
		require.Zero(t, want.code, "%v: %s", args, want)
		assert.Equal(t, want.code, got.code, "%v: %s", args, got)
		assert.Equal(t, want.stdout, strings.ReplaceAll(got.stdout, postgressink.Redacted(url), sqlite), "%v", args)
	}
}

// TestPostgresDBErrors: a database without a store is reported, and the
// URL's password never printed.
func TestPostgresDBErrors(t *testing.T) {
	url := pgtest.URL(t)
	r := runCLI("runs", "--db", url)
	assert.NotZero(t, r.code)
	assert.Contains(t, r.stderr, "no stagetrace store")
	withPassword := strings.Replace(url, "postgres@", "postgres:s3cret@", 1)
	require.Contains(t, withPassword, "s3cret")
	r = runCLI("runs", "--db", withPassword)
	assert.NotZero(t, r.code)
	assert.NotContains(t, r.stderr+r.stdout, "s3cret")
}

// TestServeOnPostgres runs serve with --db naming a PostgreSQL database:
// spans sent over OTLP land there, the UI's API and the command reading
// the same URL agree, and the password is printed nowhere.
func TestServeOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	withPassword := strings.Replace(url, "postgres@", "postgres:s3cret@", 1)
	require.Contains(t, withPassword, "s3cret")
	s := startServe(t, "--db", withPassword)
	assert.Contains(t, s.stdout.String(), "stagetrace serve: store postgres")
	assert.NotContains(t, s.stdout.String()+s.stderr.String(), "s3cret")

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.http), otlptracehttp.WithInsecure())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	pipeline(tp, "run-pg")
	require.NoError(t, tp.ForceFlush(ctx))
	require.NoError(t, tp.Shutdown(ctx))

	require.Eventually(t, func() bool {
		var runs []json.RawMessage
		getJSON(t, "http://"+s.ui+"/api/v1/runs", &runs)
		return len(runs) == 1
	}, 5*time.Second, 20*time.Millisecond)
	r := runCLI("runs", "--json", "--db", url)
	require.Zero(t, r.code, r.stderr)
	resp, err := http.Get("http://" + s.ui + "/api/v1/runs")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, r.stdout, string(body), "the API and the command read the same store")
	require.Equal(t, exitOK, s.stop(), "stderr: %s", s.stderr.String())

	st, err := postgressink.OpenReadOnly(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	run, err := st.Run(ctx, "run-pg")
	require.NoError(t, err)
	assert.Equal(t, 3, run.Spans)
	assert.Equal(t, int64(812), run.InputTokens, "the genai preset read the tokens")
}
