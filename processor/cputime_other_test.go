//go:build !unix

package processor

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
