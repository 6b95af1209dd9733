package jsonlsink

import "os"

// Hooks for the tests in package jsonlsink_test.

const (
	TornChunkSize  = tornChunkSize
	MaxRetainedBuf = maxRetainedBuf
)

// HoldLock takes the sink's lock and returns the function that releases it.
func (s *Sink) HoldLock() (release func()) {
	s.sem <- struct{}{}
	return s.unlock
}

// BufCap returns the capacity of the encoding buffer kept between writes.
func (s *Sink) BufCap() int {
	s.sem <- struct{}{}
	defer s.unlock()
	return cap(s.buf)
}

// SetFallocate replaces the call that reserves a file's blocks until the
// returned function restores it.
func SetFallocate(f func(*os.File, int64, int64) error) (restore func()) {
	old := fallocate
	fallocate = f
	return func() { fallocate = old }
}
