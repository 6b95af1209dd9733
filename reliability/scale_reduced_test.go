//go:build !reliability

package reliability

// full is false without the reliability build tag: every test runs in a
// reduced, bounded form, so that go test -race ./... stays short.
const full = false
