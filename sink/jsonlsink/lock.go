package jsonlsink

import (
	"errors"
	"fmt"
	"os"

	"github.com/stagetrace/stagetrace/internal/filelock"
)

// ErrInUse is the error of [New] when another sink, in this process or
// another, has the file open: one file has one writer. A second writer
// would interleave its lines with the first one's, and the repair of a torn
// line at open would cut off the first one's write in progress.
var ErrInUse = errors.New("in use by another writer")

// lockFile takes the exclusive lock of the sink on f, the file at path.
func lockFile(f *os.File) error {
	err := filelock.TryLock(f)
	if errors.Is(err, filelock.ErrLocked) {
		return fmt.Errorf("%w: another jsonlsink holds its lock; give each writer its own file", ErrInUse)
	}
	return err
}
