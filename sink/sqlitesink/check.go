package sqlitesink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrDamaged is returned by OpenReadOnly for a file whose pages SQLite's
// own check (PRAGMA quick_check) finds damaged. Queries on such a file can
// fail, or worse, return too little without an error: a run index with a
// damaged page lists no runs at all.
var ErrDamaged = errors.New("sqlitesink: store is damaged")

// The check on open reads the whole file, so its cost grows with the
// file: about 0.4 s for 100 MiB in the page cache. It is bounded by
// time: when the whole file cannot be checked in fullCheckBudget, only
// the runs table and its indexes are (one row per run: 25 ms for 40,000
// runs), in runsCheckBudget; a file too large for that is opened
// unchecked, with a debug log line. Variables, so that tests reach each
// path.
var (
	fullCheckBudget = 250 * time.Millisecond
	runsCheckBudget = 250 * time.Millisecond
)

// maxProblems is how many of the problems quick_check reports an
// ErrDamaged names.
const maxProblems = 3

// checkOpen returns err when it is not nil; otherwise it checks the file
// as described at fullCheckBudget, and returns an error wrapping
// ErrDamaged, naming the file and its first problems, when the check
// finds damage.
func (s *Store) checkOpen(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	for _, step := range []struct {
		table  string
		budget time.Duration
	}{{"", fullCheckBudget}, {"runs", runsCheckBudget}} {
		problems, done, err := s.quickCheck(ctx, step.table, step.budget)
		if err != nil {
			return err
		}
		if !done {
			continue
		}
		if len(problems) > 0 {
			return fmt.Errorf("%w: %s: %s (found by PRAGMA quick_check; restore the file from a copy, or salvage what it holds with sqlite3's .recover)",
				ErrDamaged, s.path, strings.Join(problems, "; "))
		}
		return nil
	}
	s.cfg.logger.Debug("stagetrace sqlite store: too large to check on open", "path", s.path,
		"budget", fullCheckBudget+runsCheckBudget)
	return nil
}

// quickCheck runs PRAGMA quick_check, of table alone when not "", for at
// most budget. It returns the problems found (none when the file is
// sound) and whether the check finished in time.
func (s *Store) quickCheck(ctx context.Context, table string, budget time.Duration) (problems []string, done bool, err error) {
	pragma := `PRAGMA quick_check`
	if table != "" {
		pragma += `("` + table + `")`
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	rows, err := s.rdb.QueryContext(cctx, pragma)
	if err == nil {
		for rows.Next() && len(problems) < maxProblems {
			var line string
			if err = rows.Scan(&line); err != nil {
				break
			}
			if line != "ok" {
				line = strings.ReplaceAll(strings.TrimPrefix(line, "*** in database main ***\n"), "\n", "; ")
				problems = append(problems, line)
			}
		}
		err = errors.Join(err, closeRows(rows))
	}
	switch {
	case err == nil:
		return problems, true, nil
	case ctx.Err() != nil:
		return nil, false, fmt.Errorf("sqlitesink: check %s: %w", s.path, ctx.Err())
	case cctx.Err() != nil:
		return nil, false, nil // out of budget
	case len(problems) > 0:
		return problems, true, nil
	}
	// The check itself failing is damage too: SQLite reads every page
	// for it, so a page it cannot read is one a query cannot either.
	return []string{err.Error()}, true, nil
}
