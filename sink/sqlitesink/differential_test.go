package sqlitesink_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/querytest"
)

// TestExecutorsAgree runs the differential corpus (package querytest)
// against the store and the in-memory executor.
func TestExecutorsAgree(t *testing.T) {
	querytest.Agree(t, func(t *testing.T, b stagetrace.Batch) query.Reader {
		s, _ := openStore(t)
		ctx := context.Background()
		require.NoError(t, s.Write(ctx, b))
		require.NoError(t, s.ForceFlush(ctx))
		return s
	})
}
