package query_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stagetrace/stagetrace/query"
)

func TestStoredUnixNano(t *testing.T) {
	for _, tc := range []struct {
		name    string
		t       time.Time
		ns      int64
		back    time.Time
		clamped bool
	}{
		{"zero time", time.Time{}, math.MinInt64, time.Time{}, false},
		{"Unix 0 is not the zero time", time.Unix(0, 0), 0, time.Unix(0, 0).UTC(), false},
		{"in range", time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC), time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC).UnixNano(), time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC), false},
		{"first time in range", time.Unix(0, math.MinInt64+1), math.MinInt64 + 1, time.Unix(0, math.MinInt64+1).UTC(), false},
		{"last time in range", time.Unix(0, math.MaxInt64), math.MaxInt64, time.Unix(0, math.MaxInt64).UTC(), false},
		{"before the range", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64 + 1, time.Unix(0, math.MinInt64+1).UTC(), true},
		{"after the range", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64, time.Unix(0, math.MaxInt64).UTC(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := query.StoredUnixNano(tc.t)
			assert.Equal(t, tc.ns, ns)
			assert.Equal(t, tc.back, query.StoredTime(ns))
			assert.Equal(t, tc.clamped, query.StoredTimeClamped(tc.t))
		})
	}
	assert.Less(t, query.StoredUnixNano(time.Time{}), query.StoredUnixNano(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)), "the zero time sorts first")
	assert.Equal(t, int64(0), query.UnixNano(time.Time{}), "UnixNano keeps the zero time as 0")
}
