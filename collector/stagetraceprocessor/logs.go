package stagetraceprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog"
)

// processLogs places log records in runs (pdataview.Placer.PlaceLogs).
func (p *spanProcessor) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	p.placer.PlaceLogs(ld)
	return ld, nil
}
