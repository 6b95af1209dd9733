package bearer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		want          bool
	}{
		{"Bearer s3cret", "s3cret", true},
		{"bearer s3cret", "s3cret", true},
		{"Bearer  s3cret ", "s3cret", true},
		{"Bearer s3cre", "s3cret", false},
		{"Bearer s3cretX", "s3cret", false},
		{"s3cret", "s3cret", false},
		{"Basic s3cret", "s3cret", false},
		{"", "s3cret", false},
		{"Bearer ", "", false},
		{"Bearer x", "", false},
	} {
		assert.Equal(t, tc.want, Valid(tc.header, tc.token), "%q vs %q", tc.header, tc.token)
	}
}
