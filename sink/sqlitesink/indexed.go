package sqlitesink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/stagetrace/stagetrace/internal/sqlfields"
)

// Which attribute keys have their values in span_values: the file's
// attr_index table (schema version 5). Findings are always indexed.

// indexedSet is the attribute keys a file indexes.
type indexedSet map[string]bool

// readIndexed reads the attribute keys the file indexes.
func readIndexed(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) (indexedSet, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM attr_index`)
	if err != nil {
		return nil, err
	}
	set := make(indexedSet)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		set[name] = true
	}
	return set, closeRows(rows)
}

// indexedKeys returns the attribute keys the file indexes now, for
// planning a query. The set only grows, so a plan made with it stays right
// while the query runs.
func (s *Store) indexedKeys(ctx context.Context) (indexedSet, error) {
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	set, err := readIndexed(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	return set, nil
}

// ensureIndexed adds the configured keys (and ClampedTimeAttr) to the
// file's attr_index, indexing the spans already stored under each key new
// to it, in one transaction.
func (s *Store) ensureIndexed(ctx context.Context) error {
	want := append(slices.Clone(s.cfg.indexed), ClampedTimeAttr)
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	have, err := readIndexed(ctx, tx)
	if err != nil {
		return fmt.Errorf("sqlitesink: %w", errors.Join(err, rollback(tx)))
	}
	var added []string
	for _, k := range want {
		if !have[k] && !slices.Contains(added, k) {
			added = append(added, k)
		}
	}
	if len(added) == 0 {
		s.attrIndex = have
		return rollback(tx)
	}
	if err := backfill(ctx, tx, added); err != nil {
		return fmt.Errorf("sqlitesink: indexing %q: %w", added, errors.Join(err, rollback(tx)))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitesink: indexing %q: %w", added, err)
	}
	for _, k := range added {
		have[k] = true
	}
	s.attrIndex = have
	return nil
}

// backfill indexes the values of keys in every stored span and adds the
// keys to attr_index.
func backfill(ctx context.Context, tx *sql.Tx, keys []string) error {
	ids := make([]int64, len(keys))
	for i, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO attr_index (name) VALUES (?)`, k); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, upsertKeySQL, k).Scan(&ids[i]); err != nil {
			return err
		}
	}
	type row struct {
		keyID, typ, span int64
		val              any
	}
	var pending []row
	rows, err := tx.QueryContext(ctx, `SELECT id, attrs FROM spans WHERE attrs IS NOT NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var blob sql.RawBytes
		if err := rows.Scan(&id, &blob); err != nil {
			rows.Close()
			return err
		}
		for i, k := range keys {
			v, ok, err := lookupAttr(blob, k)
			if err != nil {
				rows.Close()
				return fmt.Errorf("span row %d: %w", id, err)
			}
			if ok {
				typ, val := indexValue(v)
				pending = append(pending, row{ids[i], typ, id, val})
			}
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, insertSQL(insertValuePrefix, valueCols, 1))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range pending {
		if _, err := stmt.ExecContext(ctx, sqlfields.SourceAttr, r.keyID, r.typ, r.val, r.span); err != nil {
			return err
		}
	}
	return nil
}

const countIndexedSQL = `SELECT count(*) FROM attr_index`

// refreshIndexed rereads the keys the file indexes when another writer
// added some since this store read them: a span written without the rows
// of an indexed key would be missed by queries. It runs inside the write
// transaction, which excludes those writers.
func (s *Store) refreshIndexed(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.StmtContext(ctx, s.stmts.indexCount).QueryRowContext(ctx).Scan(&n); err != nil {
		return err
	}
	if n == len(s.attrIndex) {
		return nil
	}
	set, err := readIndexed(ctx, tx)
	if err != nil {
		return err
	}
	s.attrIndex = set
	return nil
}
