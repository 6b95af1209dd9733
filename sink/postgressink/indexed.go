package postgressink

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stagetrace/stagetrace/internal/sqlfields"
)

// Which attribute keys have their values in span_values: the attr_index
// table (schema version 2), as text() writes them. Findings are always
// indexed.

// indexedSet is the attribute keys a database indexes.
type indexedSet map[string]bool

// has reports whether the set indexes the attribute key.
func (set indexedSet) has(key string) bool { return set[text(key)] }

// readIndexed reads the attribute keys the database indexes.
func readIndexed(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) (indexedSet, error) {
	rows, err := q.Query(ctx, `SELECT name FROM attr_index`)
	if err != nil {
		return nil, err
	}
	return collectIndexed(rows)
}

func collectIndexed(rows pgx.Rows) (indexedSet, error) {
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	set := make(indexedSet, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set, nil
}

// ensureIndexed adds the keys to attr_index, indexing the spans already
// stored under each key new to it, in one transaction, and returns the
// keys the database indexes. It holds indexLockKey exclusively, so that no
// write is under way meanwhile: a write that began before is waited for
// and its spans are indexed here; one that begins after reads the new
// keys and indexes its spans itself.
func ensureIndexed(ctx context.Context, conn *pgx.Conn, keys []string) (indexedSet, error) {
	have, err := readIndexed(ctx, conn)
	if err != nil {
		return nil, err
	}
	missing := func() []string {
		var added []string
		for _, k := range keys {
			if k := text(k); !have[k] && !slices.Contains(added, k) {
				added = append(added, k)
			}
		}
		return added
	}
	if len(missing()) == 0 {
		return have, nil
	}
	var added []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, indexLockKey); err != nil {
			return err
		}
		if have, err = readIndexed(ctx, tx); err != nil {
			return err
		}
		if added = missing(); len(added) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO attr_index (name) SELECT unnest($1::text[])`, added); err != nil {
			return err
		}
		return backfill(ctx, tx, added)
	})
	if err != nil {
		return nil, fmt.Errorf("indexing attributes %q: %w", added, err)
	}
	for _, k := range added {
		have[k] = true
	}
	return have, nil
}

// backfillPage is how many spans backfill reads at a time.
const backfillPage = 5000

// backfill adds the span_values rows of keys for every stored span.
func backfill(ctx context.Context, tx pgx.Tx, keys []string) error {
	set := make(indexedSet, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	after := int64(0)
	for {
		rows, err := tx.Query(ctx, `SELECT id, record FROM spans WHERE id > $1 ORDER BY id LIMIT $2`, after, backfillPage)
		if err != nil {
			return err
		}
		var values []valueRow
		n := 0
		for rows.Next() {
			n++
			raw := rows.RawValues()
			var id int64
			if err := rows.Scan(&id, nil); err != nil {
				rows.Close()
				return err
			}
			sp, err := decodeSpan(raw[1])
			if err != nil {
				rows.Close()
				return fmt.Errorf("span row %d: %w", id, err)
			}
			values = appendValues(values, id, sqlfields.SourceAttr, sp.Attrs, set.has)
			after = id
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := copyValues(ctx, tx, values); err != nil {
			return err
		}
		if n < backfillPage {
			return nil
		}
	}
}
