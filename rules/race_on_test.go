//go:build race

package rules_test

// raceEnabled reports a -race build: sync.Pool then drops items on
// purpose, so code using pooled buffers (regexp matching) allocates.
const raceEnabled = true
