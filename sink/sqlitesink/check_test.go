package sqlitesink

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// writeRuns writes a store of n runs of one span each to a new file and
// closes it, so that every page is in the file and none in its log.
func writeRuns(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open(path)
	require.NoError(t, err)
	var b stagetrace.Batch
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range n {
		b.Spans = append(b.Spans, stagetrace.StageSpan{
			RunID: fmt.Sprintf("run-%03d", i), Name: "step", Stage: "inference",
			TraceID: stagetrace.TraceID{1, byte(i)}, SpanID: stagetrace.SpanID{2, byte(i)},
			StartTime: start.Add(time.Duration(i) * time.Second), EndTime: start.Add(time.Duration(i)*time.Second + time.Millisecond),
		})
	}
	require.NoError(t, s.Write(context.Background(), b))
	require.NoError(t, s.Close())
	return path
}

// damagePage rewrites the page holding the root of the index (or table)
// named name with damage.
func damagePage(t *testing.T, path, name string, damage func(page []byte)) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	var root, size int64
	require.NoError(t, db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = ?`, name).Scan(&root))
	require.NoError(t, db.QueryRow(`PRAGMA page_size`).Scan(&size))
	require.NoError(t, db.Close())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	page := make([]byte, size)
	_, err = f.ReadAt(page, (root-1)*size)
	require.NoError(t, err)
	damage(page)
	_, err = f.WriteAt(page, (root-1)*size)
	require.NoError(t, err)
}

// setBudgets sets the budgets of the check on open for one test.
func setBudgets(t *testing.T, full, runs time.Duration) {
	oldFull, oldRuns := fullCheckBudget, runsCheckBudget
	fullCheckBudget, runsCheckBudget = full, runs
	t.Cleanup(func() { fullCheckBudget, runsCheckBudget = oldFull, oldRuns })
}

// noCells sets the number of cells of a b-tree page to zero: the page
// still reads as a valid, empty page.
func noCells(page []byte) { page[3], page[4] = 0, 0 }

func TestOpenReadOnlyRefusesADamagedFile(t *testing.T) {
	tests := []struct {
		name, object string
		damage       func([]byte)
		problem      string
	}{
		{"run index lists nothing", "runs_first_start", noCells, "wrong # of entries in index runs_first_start"},
		{"run index page zeroed", "runs_first_start", func(p []byte) { clear(p) }, "error code 11"},
		{"span table page garbled", "spans", func(p []byte) {
			for i := range p {
				p[i] = byte(i*7 + 3)
			}
		}, "Page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRuns(t, 20)
			damagePage(t, path, tt.object, tt.damage)
			s, err := OpenReadOnly(path)
			if s != nil {
				_ = s.Close()
			}
			require.ErrorIs(t, err, ErrDamaged)
			assert.ErrorContains(t, err, path, "the error names the file")
			assert.ErrorContains(t, err, tt.problem)
		})
	}
}

// TestCheckFallsBackToTheRunsTable gives the whole-file check no time, as
// a file too large for it: the runs table is still checked.
func TestCheckFallsBackToTheRunsTable(t *testing.T) {
	setBudgets(t, time.Nanosecond, runsCheckBudget)
	path := writeRuns(t, 20)
	damagePage(t, path, "runs_first_start", noCells)
	_, err := OpenReadOnly(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.ErrorContains(t, err, "runs_first_start")
}

// TestCheckIsBounded gives both checks no time: the file opens unchecked,
// and the damage the check exists for shows: no runs, and no error.
func TestCheckIsBounded(t *testing.T) {
	setBudgets(t, time.Nanosecond, time.Nanosecond)
	path := writeRuns(t, 20)
	damagePage(t, path, "runs_first_start", noCells)
	s, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer s.Close()
	runs, err := s.Runs(context.Background(), query.RunFilter{})
	require.NoError(t, err)
	assert.Empty(t, runs, "unchecked, a damaged index hides every run")
}

func TestOpenReadOnlyOpensASoundFile(t *testing.T) {
	path := writeRuns(t, 20)
	s, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer s.Close()
	runs, err := s.Runs(context.Background(), query.RunFilter{})
	require.NoError(t, err)
	assert.Len(t, runs, 20)
}
