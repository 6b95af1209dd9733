//go:build !unix

package benchpair

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
