//go:build race

package reliability

// raceEnabled says the race detector is on: SQLite (C translated to Go)
// runs about twenty times slower under it, so reduced tests write fewer
// spans to it.
const raceEnabled = true
