package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
)

// hostile is what a sender of spans may put in any string: a screen clear,
// a terminal title, a forged table row.
const hostile = "x\x1b[2J\x1b]0;pwned\x07\r\nFAKE\tROW\x00"

// writeHostile writes one run whose every printed string is hostile to a
// store and a JSONL file in dir, and returns the run's records.
func writeHostile(t *testing.T, dir string) stagetrace.Batch {
	t.Helper()
	start := base
	b := stagetrace.Batch{
		Spans: []stagetrace.StageSpan{{
			RunID: "run" + hostile, Stage: "stage" + hostile, Name: "span" + hostile,
			TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1},
			StartTime: start, EndTime: start.Add(time.Second),
			Status: stagetrace.StatusError, StatusMessage: "msg" + hostile,
			Attrs: stagetrace.Attrs{{Key: "note", Value: stagetrace.StringValue("attr" + hostile)}},
			Findings: stagetrace.Attrs{
				{Key: "finding" + hostile, Value: stagetrace.StringValue("value" + hostile)},
				{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(3)},
			},
		}},
		Events: []stagetrace.TraceEvent{{
			RunID: "run" + hostile, Stage: "stage" + hostile, Name: attributes.EventException, Time: start,
			Attrs: stagetrace.Attrs{{Key: string(attributes.ExceptionMessage), Value: stagetrace.StringValue("boom" + hostile)}},
		}},
	}
	ctx := context.Background()
	store, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	file, err := jsonlsink.New(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	for _, s := range []stagetrace.Sink{store, file} {
		require.NoError(t, s.Write(ctx, b))
		require.NoError(t, s.Shutdown(ctx))
	}
	return b
}

func TestPrintedTextIsTerminalSafe(t *testing.T) {
	dir := t.TempDir()
	writeHostile(t, dir)
	runID := "run" + hostile
	for _, src := range [][]string{{"--db", filepath.Join(dir, "runs.db")}, {"--jsonl", filepath.Join(dir, "runs.jsonl")}} {
		for _, args := range [][]string{
			{"runs"},
			{"spans"},
			{"spans", "--attrs", "note,finding.input_tokens"},
			{"show", runID},
			{"show", "nope" + hostile},
		} {
			r := runCLI(append(args, src...)...)
			for _, out := range []string{r.stdout, r.stderr} {
				assert.NotContains(t, out, "\x1b", "%q", args)
				assert.NotContains(t, out, "\r", "%q", args)
				assert.NotContains(t, out, "\x00", "%q", args)
				assert.NotContains(t, out, "\x07", "%q", args)
				assert.NotContains(t, out, "\nFAKE", "%q: no forged line", args)
			}
			if args[0] != "show" || args[1] == runID {
				assert.Contains(t, r.stdout, `runx\x1b[2J\x1b]0;pwned\x07\r\nFAKE\tROW\x00`, "%q: shown escaped", args)
			}
		}
	}
}

func TestJSONStaysExact(t *testing.T) {
	dir := t.TempDir()
	b := writeHostile(t, dir)
	r := runCLI("show", b.Spans[0].RunID, "--json", "--db", filepath.Join(dir, "runs.db"))
	require.Equal(t, 0, r.code, r.String())
	var got summary.RunJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Len(t, got.Spans, 1)
	assert.Equal(t, b.Spans[0].Name, got.Spans[0].Span.Name)
	assert.Equal(t, b.Spans[0].StatusMessage, got.Spans[0].Span.StatusMessage)
	id, err := json.Marshal(b.Spans[0].RunID)
	require.NoError(t, err)
	assert.Contains(t, r.stdout, string(id), "the run id as JSON encodes it")
}

func TestShowWidthIsBounded(t *testing.T) {
	inFixture(t)
	for _, w := range []string{"99999999999999", "100000000", "1001", "0"} {
		r := runCLI("show", "turn-1", "--width", w)
		assert.Equal(t, exitUsage, r.code, "--width %s: %s", w, r)
		assert.Contains(t, r.stderr, "--width must be from 1 to 1000")
		assert.Empty(t, r.stdout)
	}
	r := runCLI("show", "turn-1", "--width", "1000")
	require.Equal(t, exitOK, r.code, r.String())
	assert.Less(t, len(r.stdout), 100_000)
}

func TestTornJSONLReadsEveryCompleteLine(t *testing.T) {
	dir := inFixture(t)
	path := filepath.Join(dir, "stagetrace-out", "runs.jsonl")
	whole := runCLI("runs", "--jsonl", path)
	require.Equal(t, exitOK, whole.code, whole.String())
	require.Empty(t, whole.stderr)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	// A bad line in the middle, and a torn last line.
	torn := strings.Join(lines[:2], "") + "garbage\n" + strings.Join(lines[2:], "") + `{"type":"stage_span","run_id":"tu`
	require.NoError(t, os.WriteFile(path, []byte(torn), 0o644))

	r := runCLI("runs", "--jsonl", path)
	assert.Equal(t, exitOK, r.code, r.String())
	assert.Equal(t, whole.stdout, r.stdout, "no complete record is lost")
	assert.Contains(t, r.stderr, "warning: "+path+": 2 lines that do not decode were skipped, the last one torn")
	assert.Contains(t, r.stderr, "line 3")
}

func TestCSVExportNeutralisesFormulas(t *testing.T) {
	dir := t.TempDir()
	writeHostile(t, dir)
	ctx := context.Background()
	store, err := sqlitesink.Open(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	require.NoError(t, store.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{
		RunID: "=HYPERLINK(\"http://evil\",\"x\")", Name: "@SUM(A1)", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{2},
		StartTime: base, EndTime: base.Add(time.Second),
	}}}))
	require.NoError(t, store.Shutdown(ctx))
	db := filepath.Join(dir, "runs.db")

	r := runCLI("export", "--format", "csv", "--db", db, "--where", "name~^@")
	require.Equal(t, exitOK, r.code, r.String())
	assert.Contains(t, r.stdout, `"'=HYPERLINK(""http://evil"",""x"")"`)
	assert.Contains(t, r.stdout, "'@SUM(A1)")

	r = runCLI("export", "--format", "csv", "--csv-raw", "--db", db, "--where", "name~^@")
	require.Equal(t, exitOK, r.code, r.String())
	assert.Contains(t, r.stdout, `"=HYPERLINK(""http://evil"",""x"")"`)
	assert.NotContains(t, r.stdout, "'@SUM")

	r = runCLI("export", "--csv-raw", "--db", db)
	assert.Equal(t, exitUsage, r.code, "--csv-raw without csv: %s", r)
}
