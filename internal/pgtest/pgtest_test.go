package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestDatabasesAreSeparateAndSurviveRestart(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.URL(t), pgtest.URL(t)
	require.NotEqual(t, a, b)
	ca, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	_, err = ca.Exec(ctx, `CREATE TABLE t (x int); INSERT INTO t VALUES (7)`)
	require.NoError(t, err)
	require.NoError(t, ca.Close(ctx))

	cb, err := pgx.Connect(ctx, b)
	require.NoError(t, err)
	var n int
	require.NoError(t, cb.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n))
	assert.Zero(t, n, "a new database is empty")
	require.NoError(t, cb.Close(ctx))

	s := pgtest.Start(t)
	if os.Getenv(pgtest.URLEnv) != "" {
		return
	}
	require.NoError(t, s.Restart())
	ca, err = pgx.Connect(ctx, a)
	require.NoError(t, err)
	defer ca.Close(ctx)
	require.NoError(t, ca.QueryRow(ctx, `SELECT x FROM t`).Scan(&n))
	assert.Equal(t, 7, n, "data outlives a restart")
}

const panicEnv = "PGTEST_PANIC_CHILD"

// TestPanicChild is the test binary that dies: it starts the cluster,
// tells where, and panics, so that Main's cleanup never runs.
func TestPanicChild(t *testing.T) {
	if os.Getenv(panicEnv) == "" {
		t.Skip("run by TestNothingLeftAfterPanic")
	}
	pgtest.URL(t)
	fmt.Println(pgtest.Start(t).Dir())
	panic("a test that panics")
}

// TestNothingLeftAfterPanic: a test binary that panics with a cluster
// running leaves neither the server nor its directory behind.
func TestNothingLeftAfterPanic(t *testing.T) {
	if os.Getenv(pgtest.URLEnv) != "" {
		t.Skip("no cluster of ours with " + pgtest.URLEnv)
	}
	pgtest.Start(t) // skips, or fails in CI, without PostgreSQL
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicChild$")
	cmd.Env = append(os.Environ(), panicEnv+"=1")
	out, err := cmd.Output()
	require.Error(t, err, "the child panics")
	dir := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	require.True(t, strings.HasPrefix(filepath.Base(dir), "stpg"), "child output: %s", out)
	assert.Eventually(t, func() bool {
		_, err := os.Stat(dir)
		return errors.Is(err, fs.ErrNotExist)
	}, 30*time.Second, 100*time.Millisecond, "the watchdog stops the cluster and removes %s", dir)
}
