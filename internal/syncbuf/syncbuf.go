// Package syncbuf is a bytes.Buffer that goroutines may write and read at
// once: what tests give a logger, a child process's output or a server
// while they read what it wrote so far.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it. The zero Buffer is empty and
// ready to use; it is safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
