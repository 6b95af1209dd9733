package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirNames returns the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestReportFromStore(t *testing.T) {
	dir := inFixture(t)
	r := runCLI("report", "turn-1")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Equal(t, "wrote the report of run turn-1 (7 spans, 2 events) to report.html\n", r.stdout)

	data, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	html := string(data)
	assert.Contains(t, html, `<body data-run-id="turn-1" data-span-count="7" data-error-count="1">`)
	assert.Contains(t, html, `<svg id="waterfall" data-span-count="7"`)
	for _, stage := range []string{"retrieval", "inference", "evaluation"} {
		assert.Contains(t, html, `<tr class="stage" data-stage="`+stage+`"`, stage)
	}
	assert.Contains(t, html, `data-stage="inference" data-span-count="3" data-error-count="1"`)
	assert.Contains(t, html, `<tr class="model" data-model="gpt-4o" data-calls="1" data-input-tokens="812" data-output-tokens="95"`)
	assert.Contains(t, html, `data-metric="time_to_first_token"`, "metric events are charted")
	assert.Contains(t, html, now.Format("2006-01-02T15:04:05Z"), "Generated is the command's clock")
	assert.NotContains(t, html, "turn-2")

	info, err := os.Stat(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
	assert.ElementsMatch(t, []string{"stagetrace-out", "report.html"}, dirNames(t, dir), "no temporary file is left")
}

func TestReportFromJSONLMatchesTheStore(t *testing.T) {
	dir := inFixture(t)
	require.Equal(t, exitOK, runCLI("report", "turn-2", "-o", "db.html").code)
	r := runCLI("report", "--jsonl", "stagetrace-out/runs.jsonl", "turn-2", "-o", "jsonl.html")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "wrote the report of run turn-2 (6 spans, 1 events) to jsonl.html\n", r.stdout)

	fromDB, err := os.ReadFile(filepath.Join(dir, "db.html"))
	require.NoError(t, err)
	fromJSONL, err := os.ReadFile(filepath.Join(dir, "jsonl.html"))
	require.NoError(t, err)
	assert.Equal(t, string(fromDB), string(fromJSONL))
	assert.Contains(t, string(fromJSONL), `<body data-run-id="turn-2" data-span-count="6" data-error-count="0">`)
}

func TestReportReplacesTheFile(t *testing.T) {
	dir := inFixture(t)
	path := filepath.Join(dir, "out.html")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	r := runCLI("report", "turn-1", "-o", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), `data-run-id="turn-1"`)
}

func TestReportErrors(t *testing.T) {
	dir := inFixture(t)

	t.Run("unknown run", func(t *testing.T) {
		r := runCLI("report", "turn-9")
		assert.Equal(t, exitFail, r.code)
		assert.Equal(t, "stagetrace report: run \"turn-9\" not found in ./stagetrace-out/runs.db\n", r.stderr)
		assert.Empty(t, r.stdout)
		assert.Equal(t, []string{"stagetrace-out"}, dirNames(t, dir), "no report and no temporary file")
	})

	t.Run("unknown run in JSONL", func(t *testing.T) {
		r := runCLI("report", "turn-9", "--jsonl", "stagetrace-out/runs.jsonl")
		assert.Equal(t, exitFail, r.code)
		assert.Contains(t, r.stderr, `run "turn-9" not found in stagetrace-out/runs.jsonl`)
		assert.Equal(t, []string{"stagetrace-out"}, dirNames(t, dir))
	})

	t.Run("missing directory", func(t *testing.T) {
		r := runCLI("report", "turn-1", "-o", "nowhere/report.html")
		assert.Equal(t, exitFail, r.code)
		assert.Contains(t, r.stderr, "stagetrace report: cannot write nowhere/report.html: ")
		assert.Equal(t, []string{"stagetrace-out"}, dirNames(t, dir))
	})

	t.Run("missing argument", func(t *testing.T) {
		r := runCLI("report")
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "want RUN, got 0 arguments")
	})

	t.Run("db and jsonl", func(t *testing.T) {
		r := runCLI("report", "turn-1", "--db", "a.db", "--jsonl", "b.jsonl")
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "give --db or --jsonl, not both")
	})
}

func TestReportMissingStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	r := runCLI("report", "turn-1")
	assert.Equal(t, exitFail, r.code)
	assert.Contains(t, r.stderr, "no store at ./stagetrace-out/runs.db")
	assert.Empty(t, dirNames(t, dir), "neither a store nor a report is created")

	r = runCLI("report", "turn-1", "--db", "other.db")
	assert.Equal(t, exitFail, r.code)
	assert.Contains(t, r.stderr, "no store at other.db")
	assert.Empty(t, dirNames(t, dir))
}
