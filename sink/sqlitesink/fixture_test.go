package sqlitesink_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/query/querytest"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// Files written by older versions of the store, kept so that every later
// schema is tested on a file as a user has it, not one rebuilt by the
// current code. Each is a store and a JSON Lines file of the same records.
// They are written once, by the version named, with
//
//	go test -run TestSchemaFixtures -write-fixture=N ./sink/sqlitesink
//
// run on the commit whose SchemaVersion is N, and never written again.
var writeFixture = flag.Int("write-fixture", 0, "write testdata/schema-vN.db and .jsonl for this schema version, which must be the current one")

// fixtureVersions are the schema versions with a fixture in testdata.
var fixtureVersions = []int{4, 6}

func fixturePaths(version int) (db, jsonl string) {
	base := filepath.Join("testdata", fmt.Sprintf("schema-v%d", version))
	return base + ".db", base + ".jsonl"
}

// fixtureRecords are the records of a fixture: the differential corpus
// and two recorded turns (resources, events, usage findings, errors).
func fixtureRecords(t *testing.T) stagetrace.Batch {
	rng := rand.New(rand.NewPCG(7, 8))
	spans := querytest.Spans(rng, 240)
	b := stagetrace.Batch{Spans: spans, Events: querytest.Events(spans)}
	s, _ := openStore(t)
	rec := fill(t, s)
	b.Spans = append(b.Spans, rec.mem.Spans()...)
	b.Events = append(b.Events, rec.mem.Events()...)
	return b
}

func writeFixtureFiles(t *testing.T, version int) {
	require.Equal(t, sqlitesink.SchemaVersion, version, "a fixture is written by the version it is named after")
	dbPath, jsonlPath := fixturePaths(version)
	for _, p := range []string{dbPath, jsonlPath} {
		_, err := os.Stat(p)
		require.ErrorIs(t, err, fs.ErrNotExist, "fixtures are written once: remove %s by hand to write it again", p)
	}
	b := fixtureRecords(t)
	ctx := context.Background()
	s, err := sqlitesink.Open(dbPath)
	require.NoError(t, err)
	require.NoError(t, s.Write(ctx, b))
	require.NoError(t, s.Close())
	j, err := jsonlsink.New(jsonlPath)
	require.NoError(t, err)
	require.NoError(t, j.Write(ctx, b))
	require.NoError(t, j.Shutdown(ctx))
}

// TestSchemaFixtures opens a copy of each file written by an older schema,
// which migrates it, and checks that every query answers as the in-memory
// executor does on the same records; then that writes go on.
func TestSchemaFixtures(t *testing.T) {
	if *writeFixture != 0 {
		writeFixtureFiles(t, *writeFixture)
	}
	for _, version := range fixtureVersions {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			dbPath, jsonlPath := fixturePaths(version)
			path := filepath.Join(t.TempDir(), "runs.db")
			copyFile(t, dbPath, path)
			require.Equal(t, version, userVersion(t, path))

			f, err := os.Open(jsonlPath)
			require.NoError(t, err)
			defer f.Close()
			mem, err := memquery.ReadJSONL(f)
			require.NoError(t, err)
			require.Zero(t, mem.Skipped().Lines)

			s, err := sqlitesink.Open(path)
			require.NoError(t, err)
			defer s.Close()
			assert.Equal(t, sqlitesink.SchemaVersion, userVersion(t, path), "migrated on open")
			spans, err := s.Spans(context.Background(), sqlitesink.SpanQuery{Limit: 1})
			require.NoError(t, err)
			require.Len(t, spans, 1)
			querytest.Check(t, s, mem, spans[0].TraceID.String(), rand.New(rand.NewPCG(1, 2)))
			checkIntegrity(t, path)
			// Metric minutes, filled by the migration, answer as the
			// points do.
			for _, q := range []query.MetricQuery{
				{Name: "score", Step: time.Minute, Agg: query.AggSum},
				{Name: "latency", Step: 5 * time.Minute, Agg: query.AggMax},
				{Name: "time_to_first_token", Instant: true, Agg: query.AggAvg},
			} {
				q.Until = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
				want, err := mem.Metrics(context.Background(), q)
				require.NoError(t, err)
				require.NotEmpty(t, want, "%+v", q)
				got, err := s.Metrics(context.Background(), q)
				require.NoError(t, err)
				assert.Equal(t, want, got, "%+v", q)
			}
			assert.Positive(t, count(t, path, "metric_minutes"))

			// The migrated file takes writes and keeps its rollups.
			rec := newRecorder(t, s)
			rec.turn("after-migration", base, 100, 1)
			r, err := s.Run(context.Background(), "after-migration")
			require.NoError(t, err)
			assert.Equal(t, spansPerTurn, r.Spans)
		})
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(dst)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
