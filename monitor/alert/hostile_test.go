package alert_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/hostiletest"
	"github.com/stagetrace/stagetrace/monitor/alert"
)

// The alert loader reads the same files as the rules loader, and bounds
// what their aliases expand to the same way.
func TestReadRefusesAliasBomb(t *testing.T) {
	_, err := alert.Read(bytes.NewReader(hostiletest.AliasBomb(2000, 200)), "bomb.yaml")
	require.Error(t, err)
	var e *alert.RuleError
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, "bomb.yaml", e.File)
	assert.Contains(t, err.Error(), "aliases expand")
}
