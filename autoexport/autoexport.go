// Package autoexport registers the stagetrace exporter with
// go.opentelemetry.io/contrib/exporters/autoexport under the name
// "stagetrace", so that a service building its exporter with
// autoexport.NewSpanExporter exports to stagetrace when
// OTEL_TRACES_EXPORTER=stagetrace. Import it for its side effect:
//
//	import _ "github.com/stagetrace/stagetrace/autoexport"
//
// The exporter is configured from the environment as setup.NewExporter
// configures it: STAGETRACE_SINKS (required), STAGETRACE_RULES and
// STAGETRACE_PRESETS. autoexport builds an exporter only, no span
// processor, so spans are placed in runs by their own run.id and
// run.stage attributes or filed under their trace id; STAGETRACE_RUN_ID
// and STAGETRACE_BAGGAGE_KEYS have no effect. For runs and stages
// inherited from contexts, parents and baggage, also register
// processor.New() on the TracerProvider, or use setup.Install.
package autoexport

import (
	"context"

	contrib "go.opentelemetry.io/contrib/exporters/autoexport"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/setup"
)

// Name is the OTEL_TRACES_EXPORTER value that selects stagetrace.
const Name = "stagetrace"

func init() {
	contrib.RegisterSpanExporter(Name, newExporter)
}

func newExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	return setup.NewExporter(ctx)
}
