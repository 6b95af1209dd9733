// Package bearer checks the bearer token of a request: the one check the
// command's web UI, JSON API and OTLP endpoints share.
package bearer

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// Valid reports whether the Authorization header value header carries
// the bearer token token. The comparison takes the same time whatever the
// tokens hold: both are hashed first, so not even the length leaks.
// An empty token never matches.
func Valid(header, token string) bool {
	if token == "" {
		return false
	}
	const prefix = "bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(header[len(prefix):])))
	want := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
