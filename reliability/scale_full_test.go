//go:build reliability

package reliability

// full selects the sizes of the full suite: go test -tags reliability.
const full = true
