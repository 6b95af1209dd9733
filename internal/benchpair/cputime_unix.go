//go:build unix

package benchpair

import (
	"syscall"
	"time"
)

// ProcessCPUTime returns the CPU time the process has used so far, in
// user and system mode, on all threads: unlike wall time, it does not grow
// while other processes hold the CPU.
func ProcessCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
