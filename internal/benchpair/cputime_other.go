//go:build !unix

package benchpair

import "time"

func ProcessCPUTime() (time.Duration, bool) { return 0, false }
