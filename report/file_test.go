package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	require.NoError(t, WriteFile(path, Data{RunID: "r-1"}))

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "r-1")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

func TestWriteFileNamesTheMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "report.html")
	err := WriteFile(path, Data{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.NoFileExists(t, path)
}
