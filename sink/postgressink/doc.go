// Package postgressink provides a [stagetrace.Sink] that keeps runs in a
// PostgreSQL database, and the queries that read them back ([query.Reader]):
// runs with their rollups, traces, spans matching filters, metrics
// aggregated per step and dataset exports, with the same answers as the
// embedded SQLite store (package sqlitesink) and the in-memory executor
// (package query/memquery). It uses the pure-Go driver
// github.com/jackc/pgx/v5.
//
//	store, err := postgressink.Open(ctx, "postgres://stagetrace@db.internal/traces", postgressink.WithTTL(30*24*time.Hour))
//	if err != nil {
//		return err
//	}
//	exp, err := exporter.New(exporter.WithSinks(store))
//
// It is the store for many collectors: any number of processes write one
// database at once. Each Write stores its batch in one transaction; a span
// stored before (same trace, span and parent ids, by any writer) is
// skipped, and the rollup of a run is folded in with an upsert, so a run
// whose spans arrive through two collectors has one correct rollup. The
// schema is created and migrated under an advisory lock, so instances
// starting together do not race, and only one instance at a time runs
// retention.
//
// The tables live in the PostgreSQL schema "stagetrace" of the database.
// Every value a caller gives reaches SQL as a bound parameter: keys (dotted
// ones too) are compared as text, never used as paths; operators, fields
// and orderings come from fixed lists. Regular-expression filters (~ and
// !~) use Go's RE2 syntax, which PostgreSQL's own expressions do not
// share, so they are checked in Go on the spans the other conditions
// select.
//
// Every finding is indexed, and the attribute keys WithIndexedAttrs names
// (the same GenAI keys as the SQLite store by default); a filter or an
// ordering on another attribute key gives the same answer, checked in Go
// on each candidate span's record.
//
// docs/store.md says when to choose this store over the embedded one.
package postgressink
