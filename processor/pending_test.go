package processor

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// TestPendingTableModel runs random operations on a pending table and on
// a Go map and checks that they agree. Span ids come from a small range,
// so that probe sequences collide, wrap around and get shifted back.
func TestPendingTableModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tbl := newPendingTable()
	model := map[spanKey]*values{}
	bySID := map[uint64]spanKey{}
	for op := range 200_000 {
		sid := 1 + rng.Uint64N(3000)
		if rng.IntN(4) == 0 {
			// Put every span in one shard, to exercise its table harder.
			sid = 1 + rng.Uint64N(50)<<(64-pendingShardBits-8)
		}
		k := spanKey{sid: sid, tid: trace.TraceID{byte(rng.IntN(2) + 1)}}
		switch rng.IntN(3) {
		case 0:
			v := &values{run: strconv.Itoa(op)}
			ok := tbl.put(k, v)
			other, taken := bySID[sid]
			wantOK := !taken || other == k
			require.Equal(t, wantOK, ok, "put %v", k)
			if ok {
				model[k], bySID[sid] = v, k
			}
		case 1:
			v, ok := tbl.take(k)
			mv, mok := model[k]
			require.Equal(t, mok, ok, "take %v", k)
			require.Equal(t, mv, v)
			delete(model, k)
			if mok {
				delete(bySID, sid)
			}
		case 2:
			v, ok := tbl.get(k)
			mv, mok := model[k]
			require.Equal(t, mok, ok, "get %v", k)
			require.Equal(t, mv, v)
		}
	}
	assert.Equal(t, len(model), tbl.len())
	for k, v := range model {
		got, ok := tbl.take(k)
		require.True(t, ok)
		require.Equal(t, v, got)
	}
	assert.Zero(t, tbl.len())
}

func TestPendingShardFillsACacheLine(t *testing.T) {
	assert.EqualValues(t, 64, unsafe.Sizeof(pendingShard{}))
}
