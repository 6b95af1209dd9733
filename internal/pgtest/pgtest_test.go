package pgtest_test

import (
	"context"
	"os"
	"testing"

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
