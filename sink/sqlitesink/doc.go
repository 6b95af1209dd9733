// Package sqlitesink provides a [stagetrace.Sink] that keeps runs in an
// embedded SQLite file, and the queries that read them back: runs with
// their rollups, traces, span trees, spans matching filters (package
// query), metrics aggregated per step, and dataset exports. It uses the
// pure-Go driver modernc.org/sqlite, so it builds with CGO_ENABLED=0.
//
//	store, err := sqlitesink.Open("stagetrace-out/runs.db", sqlitesink.WithTTL(30*24*time.Hour))
//	if err != nil {
//		return err
//	}
//	exp, err := exporter.New(exporter.WithSinks(store))
//
// Each Write stores its batch in one transaction, with the rollups of its
// runs. The file is in WAL mode: queries (from [OpenReadOnly] in another
// process, say) read while batches are written, and writers in several
// processes are serialized by SQLite's lock. With [WithTTL], runs whose
// last span ended longer ago are deleted, whole, when the store opens and
// then periodically.
//
// Every value a caller gives reaches SQL as a bound parameter: keys (dotted
// ones too) are looked up in a table of keys, never used as JSON paths;
// operators, fields and orderings come from fixed lists.
//
// The file's schema is versioned ([SchemaVersion]): Open migrates a file
// written by an older version and refuses one written by a newer one.
// docs/store.md describes the schema, the queries and the stagetrace
// command that reads stores.
package sqlitesink
