package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
