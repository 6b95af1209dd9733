//go:build !linux

package jsonlsink

import (
	"errors"
	"os"
)

// fallocateKeepSize is not available here: preallocation turns itself off
// at the first write.
func fallocateKeepSize(*os.File, int64, int64) error {
	return errors.ErrUnsupported
}
