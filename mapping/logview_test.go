package mapping

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/logtest"
)

// sdkRecord returns the record the Logs SDK hands an exporter for attrs.
func sdkRecord(t *testing.T, attrs ...attribute.KeyValue) sdklog.Record {
	t.Helper()
	keep := &logtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(keep))
	var r log.Record
	r.SetSeverity(log.SeverityWarn)
	r.SetBody(attribute.StringValue("body"))
	r.AddAttributes(attrs...)
	lp.Logger("scope").Emit(context.Background(), r)
	require.NoError(t, lp.Shutdown(context.Background()))
	require.Len(t, keep.Records(), 1)
	return keep.Records()[0]
}

// plainLog hides SDKLog's appendUnplaced, so that AddLog partitions what
// AppendAttributes gives, as it does for every other LogView.
type plainLog struct{ LogView }

// TestAddLogSDKPathMatchesGeneric checks that the SDK view, which takes
// run.id and run.stage out as it walks the attributes, maps a record to
// the event the generic partition of its attributes gives.
func TestAddLogSDKPathMatchesGeneric(t *testing.T) {
	tests := []struct {
		name       string
		attrs      []attribute.KeyValue
		run, stage string
		kept       int
	}{
		{"none", nil, "", "", 0},
		{"plain", []attribute.KeyValue{attribute.Int("attempt", 2), attribute.String("model", "m")}, "", "", 2},
		{"placed", []attribute.KeyValue{
			attribute.String("a", "x"), attributes.RunID.String("r-1"), attribute.Bool("b", true),
			attributes.RunStage.String("inference"), attributes.StageInherited.Bool(true), attribute.Float64("c", 1.5),
		}, "r-1", "inference", 3},
		{"run not a string", []attribute.KeyValue{attributes.RunID.Int(42), attributes.RunStage.StringSlice([]string{"a", "b"})}, "42", `["a","b"]`, 0},
		{"map kept", []attribute.KeyValue{attribute.Map("m", attribute.String("k", "v")), attributes.RunID.String("r")}, "r", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sdkRecord(t, tt.attrs...)
			fast, generic := NewLogBatcher(1, 1), NewLogBatcher(1, 1)
			view := &SDKLog{Record: &rec}
			_, ok := LogView(view).(placedLogView)
			require.True(t, ok, "the SDK view takes the placement out itself")
			fast.AddLog(view)
			generic.AddLog(plainLog{view})
			got, want := fast.Batch().Events, generic.Batch().Events
			require.Len(t, got, 1)
			assert.Equal(t, want, got)
			assert.Equal(t, tt.run, got[0].RunID)
			assert.Equal(t, tt.stage, got[0].Stage)
			// The record's kept attributes, then otel.scope.name.
			assert.Len(t, got[0].Attrs, tt.kept+1)
		})
	}
}
