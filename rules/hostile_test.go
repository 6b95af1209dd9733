package rules_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/hostiletest"
	"github.com/stagetrace/stagetrace/rules"
)

// A file far below the size cap can stand for millions of nodes through
// aliases; the loader refuses it, naming the file, before doing that work.
func TestLoadRefusesAliasBomb(t *testing.T) {
	bomb := hostiletest.AliasBomb(2000, 200)
	require.Less(t, len(bomb), 100<<10)
	_, err := rules.Load(bytes.NewReader(bomb), "bomb.yaml")
	require.Error(t, err)
	var e *rules.Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, "bomb.yaml", e.File)
	assert.Contains(t, err.Error(), "bomb.yaml: ")
	assert.Contains(t, err.Error(), "aliases expand")
}

// Aliases used as people use them, to repeat a block a few times, load.
func TestLoadAcceptsModestAliases(t *testing.T) {
	set, err := rules.Load(bytes.NewReader(hostiletest.AliasBomb(20, 5)), "reuse.yaml")
	require.NoError(t, err)
	assert.NotNil(t, set)
}
