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
// the class class and the stability level stability for signals (traces
// when none are given), listed in that order. It returns the file for
// further checks.
func Check(t *testing.T, class string, typ component.Type, stability component.StabilityLevel, signals ...string) *confmap.Conf {
	t.Helper()
	md, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	assert.Equal(t, typ.String(), md.Get("type"))
	assert.Equal(t, class, md.Get("status::class"))
	// mdatagen spells the levels in lower case: alpha, beta, stable.
	level := strings.ToLower(stability.String())
	want := []any{"traces"}
	if len(signals) > 0 {
		want = want[:0]
		for _, s := range signals {
			want = append(want, s)
		}
	}
	assert.Equal(t, want, md.Get("status::stability::"+level), "status.stability.%s lists %v", level, want)
	return md
}
