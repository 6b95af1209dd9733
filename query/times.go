package query

import (
	"math"
	"time"
)

// ZeroTimeNS is how StoredUnixNano keeps the zero time ("no time"): the
// one int64 below the range of Unix nanoseconds it stores, so that it
// sorts before every time and every time in the range, Unix 0 included,
// reads back as written.
const ZeroTimeNS = math.MinInt64

// The range of times StoredUnixNano keeps exactly.
var (
	minStoredTime = time.Unix(0, ZeroTimeNS+1).UTC()
	maxStoredTime = time.Unix(0, math.MaxInt64).UTC()
)

// StoredUnixNano is t in Unix nanoseconds as a store's time column keeps
// it: ZeroTimeNS for the zero time, and the nearest end of the range of
// int64 nanoseconds (1677-09-21 to 2262-04-11) for a time outside it (see
// StoredTimeClamped). StoredTime reads it back.
//
// Unlike UnixNano, which gives 0 for the zero time, the zero time sorts
// first and does not collide with Unix 0. The SQLite store keeps every
// time column this way; the PostgreSQL store keeps its run columns this
// way and its span and event columns as UnixNano.
func StoredUnixNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return ZeroTimeNS
	case t.Before(minStoredTime):
		return ZeroTimeNS + 1
	case t.After(maxStoredTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// StoredTime is the time StoredUnixNano stored as ns, in UTC: the zero
// time for ZeroTimeNS.
func StoredTime(ns int64) time.Time {
	if ns == ZeroTimeNS {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// StoredTimeClamped reports whether StoredUnixNano stores t as another
// time: t is not the zero time and lies outside the range of int64 Unix
// nanoseconds.
func StoredTimeClamped(t time.Time) bool {
	return !t.IsZero() && (t.Before(minStoredTime) || t.After(maxStoredTime))
}
