package stagetraceprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

func TestLogsPlacedByOwnRunElseResource(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.RunIDAttribute = "job.id"
	cfg.RunIDResourceAttribute = "session.id"
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	require.NoError(t, err)

	ld := plog.NewLogs()
	withSession := ld.ResourceLogs().AppendEmpty()
	withSession.Resource().Attributes().PutStr("session.id", "sess-1")
	records := withSession.ScopeLogs().AppendEmpty().LogRecords()
	own := records.AppendEmpty()
	own.Body().SetStr("own")
	own.Attributes().PutStr("run.id", "placed-in-app")
	job := records.AppendEmpty()
	job.Body().SetStr("job")
	job.Attributes().PutStr("job.id", "job-7")
	emptyRun := records.AppendEmpty()
	emptyRun.Body().SetStr("empty run")
	emptyRun.Attributes().PutStr("run.id", "")
	records.AppendEmpty().Body().SetStr("session")
	bare := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	bare.Body().SetStr("nothing")

	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	require.Len(t, sink.AllLogs(), 1)
	got := map[string]string{}
	rls := sink.AllLogs()[0].ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		lrs := rls.At(i).ScopeLogs().At(0).LogRecords()
		for k := 0; k < lrs.Len(); k++ {
			r := lrs.At(k)
			got[r.Body().Str()] = ""
			if run, ok := r.Attributes().Get("run.id"); ok {
				got[r.Body().Str()] = run.AsString()
			}
		}
	}
	assert.Equal(t, map[string]string{
		"own":       "placed-in-app",
		"job":       "job-7",
		"empty run": "sess-1", // an empty run.id counts as unset, as in the SDK
		"session":   "sess-1",
		"nothing":   "",
	}, got)
	require.NoError(t, p.Shutdown(context.Background()))
}
