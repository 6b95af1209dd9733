package postgressink

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaVersion is the schema version this package writes and reads, kept
// in stagetrace.schema_version.
const SchemaVersion = 2

// ErrSchemaTooNew is returned when the database was written by a newer
// version of stagetrace than this one.
var ErrSchemaTooNew = errors.New("postgressink: schema too new")

// schemaName is the PostgreSQL schema holding the tables, so that they
// share a database with others' without clashing; every connection has it
// first in its search_path.
const schemaName = "stagetrace"

// Advisory lock keys (pg_advisory_lock takes a bigint): "stgt" and a
// purpose, so that they stay apart from anyone else's locks.
const (
	migrateLockKey   int64 = 0x7374677400000001
	retentionLockKey int64 = 0x7374677400000002
	// indexLockKey is held shared by every write transaction and
	// exclusively by the one that adds keys to attr_index and indexes the
	// spans stored before (see ensureIndexed).
	indexLockKey int64 = 0x7374677400000003
)

// span_values.type and span_values.source hold the codes of
// internal/sqlfields. num holds numbers (and booleans as 0 and 1) as
// float8, i the int64 of integers and booleans exactly, str strings:
// numbers compare as numbers, strings as strings (bytewise, in the C
// collation).

// migrations[i] takes the database from schema version i to i+1.
var migrations = []string{schemaV1, schemaV2}

// schemaV1 is the first schema. Each span is kept whole, losslessly, as
// its JSON line (the format of the JSON Lines sink) in record; the other
// columns of spans are what queries filter and order by. Times are Unix
// nanoseconds (query.UnixNano).
const schemaV1 = `
CREATE TABLE spans (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- order of writing
	trace_id       bytea NOT NULL,
	span_id        bytea NOT NULL,
	parent_span_id bytea NOT NULL, -- empty for a root span, so that the unique index catches it twice
	run_id         text COLLATE "C" NOT NULL,
	stage          text COLLATE "C" NOT NULL,
	name           text COLLATE "C" NOT NULL,
	scope          text COLLATE "C" NOT NULL,
	start_ns       bigint NOT NULL,
	end_ns         bigint NOT NULL,
	elapsed_ms     float8 NOT NULL, -- StageSpan.ElapsedMS, computed once
	status         smallint NOT NULL,
	kind           smallint NOT NULL,
	record         bytea NOT NULL
);
CREATE UNIQUE INDEX spans_ids ON spans (trace_id, span_id, parent_span_id);
CREATE INDEX spans_run_start ON spans (run_id, start_ns);
CREATE INDEX spans_start ON spans (start_ns);

-- The scalar attribute and finding values of spans, for filters. key is
-- the whole key, dots and all, compared as text.
CREATE TABLE span_values (
	span_id bigint NOT NULL, -- spans.id
	source  smallint NOT NULL,
	key     text COLLATE "C" NOT NULL,
	type    smallint NOT NULL,
	num     float8,
	i       bigint,
	str     text COLLATE "C"
);
-- Keys and strings may be longer than an index entry can hold: the
-- indexes hold their digests, and queries compare the digest and then the
-- text.
CREATE INDEX span_values_span ON span_values (span_id);
CREATE INDEX span_values_num ON span_values (source, md5(key), num) WHERE type IN (1, 3);
CREATE INDEX span_values_str ON span_values (source, md5(key), md5(str)) WHERE type = 2;

-- Every event, those of stored spans too, as its JSON line.
CREATE TABLE events (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id       text COLLATE "C" NOT NULL,
	stage        text COLLATE "C" NOT NULL,
	trace_id     bytea NOT NULL,
	span_id      bytea NOT NULL,
	time_ns      bigint NOT NULL,
	metric_name  text COLLATE "C", -- metric.name of a metric event, else NULL
	metric_value float8,
	record       bytea NOT NULL
);
CREATE INDEX events_run ON events (run_id, time_ns);
CREATE INDEX events_metric ON events (metric_name, time_ns) WHERE metric_name IS NOT NULL;

-- The rollup of each run (usage.Rollup), folded in by every write.
CREATE TABLE runs (
	run_id                text COLLATE "C" PRIMARY KEY,
	first_start_ns        bigint NOT NULL,
	last_end_ns           bigint NOT NULL,
	stages                bigint NOT NULL,
	spans                 bigint NOT NULL,
	errors                bigint NOT NULL,
	input_tokens          bigint NOT NULL,
	output_tokens         bigint NOT NULL,
	cache_read_tokens     bigint NOT NULL,
	cache_creation_tokens bigint NOT NULL,
	reasoning_tokens      bigint NOT NULL,
	total_tokens          bigint NOT NULL,
	cost_nanos            bigint NOT NULL,
	cost_currency         text NOT NULL,
	cost_spans            bigint NOT NULL,
	cost_errors           bigint NOT NULL,
	cost_unknown          boolean NOT NULL
);
CREATE INDEX runs_last_end ON runs (last_end_ns);
CREATE INDEX runs_first_start ON runs (first_start_ns);
CREATE TABLE run_stages (
	run_id text COLLATE "C" NOT NULL,
	stage  text COLLATE "C" NOT NULL,
	PRIMARY KEY (run_id, stage)
);
`

// schemaV2: attributes indexed by choice. In version 1 every attribute of
// every span had a row in span_values, about three quarters of its rows,
// which set the pace of writes once the indexes outgrew the server's
// memory. From version 2 findings are indexed as before, but an attribute
// only when its key is in attr_index (WithIndexedAttrs); a filter on any
// other key is checked on the span's record. The set only grows (see
// ensureIndexed), so that a query planned with an index finds every span
// under it. A database of version 1 keeps indexing every attribute key it
// indexed: its rows are all there.
const schemaV2 = `
CREATE TABLE attr_index (
	name text COLLATE "C" PRIMARY KEY -- an attribute key whose values span_values holds for every span
);
INSERT INTO attr_index (name) SELECT DISTINCT key FROM span_values WHERE source = 0; -- sqlfields.SourceAttr
`

// migrate brings the database to SchemaVersion and has it index the
// attribute keys given (see ensureIndexed), and returns the keys it
// indexes. It holds an advisory lock meanwhile, so that instances starting
// at once migrate one after the other: the second finds the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool, indexed []string) (indexedSet, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return nil, err
	}
	defer func() {
		// A lost connection releases the lock too.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	}()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schemaName+`;
CREATE TABLE IF NOT EXISTS `+schemaName+`.schema_version (version integer NOT NULL)`); err != nil {
		return nil, err
	}
	for {
		var version int
		err := conn.QueryRow(ctx, `SELECT version FROM `+schemaName+`.schema_version`).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			version, err = 0, nil
		}
		if err != nil {
			return nil, err
		}
		if version > SchemaVersion {
			return nil, fmt.Errorf("%w: the database has schema version %d, and this stagetrace reads up to version %d: upgrade stagetrace", ErrSchemaTooNew, version, SchemaVersion)
		}
		if version == SchemaVersion {
			return ensureIndexed(ctx, conn.Conn(), indexed)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+schemaName); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, migrations[version]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM schema_version; INSERT INTO schema_version VALUES (`+fmt.Sprint(version+1)+`)`)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("postgressink: migrating from schema version %d to %d: %w", version, version+1, err)
		}
	}
}
