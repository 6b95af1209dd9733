//go:build !race

package reliability

// raceEnabled says the race detector is on.
const raceEnabled = false
