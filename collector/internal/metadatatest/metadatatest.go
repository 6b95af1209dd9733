// Package metadatatest checks a collector component's factory against
// its metadata.yaml, the file the Collector's mdatagen generates the
// status code from.
package metadatatest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// Check loads metadata.yaml from the working directory (the component's
// package when run by go test) and asserts that it gives the type typ,
// the class class and, for traces, the stability level stability. It
// returns the file for further checks.
func Check(t *testing.T, class string, typ component.Type, stability component.StabilityLevel) *confmap.Conf {
	t.Helper()
	md, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	assert.Equal(t, typ.String(), md.Get("type"))
	assert.Equal(t, class, md.Get("status::class"))
	// mdatagen spells the levels in lower case: alpha, beta, stable.
	level := strings.ToLower(stability.String())
	assert.Equal(t, []any{"traces"}, md.Get("status::stability::"+level), "status.stability.%s lists traces", level)
	return md
}
