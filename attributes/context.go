package attributes

import (
	"context"
	"reflect"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/internal/stagectx"
)

// ContextWithRun returns a copy of ctx that carries runID. Spans started
// from it (and their descendants in this process) belong to that run,
// unless they set run.id themselves.
func ContextWithRun(ctx context.Context, runID string) context.Context {
	return stagectx.WithRun(ctx, runID)
}

// RunFromContext returns the run id set by ContextWithRun.
func RunFromContext(ctx context.Context) (string, bool) {
	s := stagectx.Run(ctx)
	return s, s != ""
}

// ContextWithStage returns a copy of ctx that carries stage. Spans started
// from it belong to that stage unless they set run.stage themselves.
//
// Each call opens the stage anew: the first span the processor places in
// the stage from this context (or one derived from it) opens the stage,
// and every later one is marked run.stage_inherited.
func ContextWithStage(ctx context.Context, stage string) context.Context {
	return stagectx.With(ctx, stage)
}

// StageFromContext returns the stage set by ContextWithStage.
func StageFromContext(ctx context.Context) (string, bool) {
	return stagectx.From(ctx)
}

// Run returns the run.id attribute for runID.
func Run(runID string) attribute.KeyValue { return RunID.String(runID) }

// Stage returns the run.stage attribute for stage.
func Stage(stage string) attribute.KeyValue { return RunStage.String(stage) }

// BaggageWithRun returns a copy of ctx whose W3C baggage carries run.id, so
// that the run crosses process boundaries with the OpenTelemetry baggage
// propagator. Receivers honour it only when told to trust baggage.
func BaggageWithRun(ctx context.Context, runID string) (context.Context, error) {
	return withBaggage(ctx, string(RunID), runID)
}

// BaggageWithStage is BaggageWithRun for run.stage.
func BaggageWithStage(ctx context.Context, stage string) (context.Context, error) {
	return withBaggage(ctx, string(RunStage), stage)
}

func withBaggage(ctx context.Context, key, value string) (context.Context, error) {
	m, err := baggage.NewMemberRaw(key, value)
	if err != nil {
		return ctx, err
	}
	b, err := baggage.FromContext(ctx).SetMember(m)
	if err != nil {
		return ctx, err
	}
	return baggage.ContextWithBaggage(ctx, b), nil
}

// RunFromBaggage returns run.id from the W3C baggage in ctx.
func RunFromBaggage(ctx context.Context) (string, bool) {
	return FromBaggage(ctx, string(RunID))
}

// StageFromBaggage returns run.stage from the W3C baggage in ctx.
func StageFromBaggage(ctx context.Context) (string, bool) {
	return FromBaggage(ctx, string(RunStage))
}

// FromBaggage returns the value of the baggage member key in ctx.
func FromBaggage(ctx context.Context, key string) (string, bool) {
	v := baggage.FromContext(ctx).Member(key).Value()
	return v, v != ""
}

// FindingValue is the set of Go types a finding can hold.
type FindingValue interface {
	~bool | ~int | ~int64 | ~float64 | ~string
}

// Finding returns the finding.<name> attribute holding v, for use with
// trace.WithAttributes or span.SetAttributes.
func Finding[T FindingValue](name string, v T) attribute.KeyValue {
	k := FindingKey(name)
	switch x := any(v).(type) {
	case bool:
		return k.Bool(x)
	case int:
		return k.Int(x)
	case int64:
		return k.Int64(x)
	case float64:
		return k.Float64(x)
	case string:
		return k.String(x)
	}
	// A named type built on one of the allowed kinds.
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Bool:
		return k.Bool(r.Bool())
	case reflect.Int, reflect.Int64:
		return k.Int64(r.Int())
	case reflect.Float64:
		return k.Float64(r.Float())
	default:
		return k.String(r.String())
	}
}

// SetFinding records finding name with value v on span.
func SetFinding[T FindingValue](span trace.Span, name string, v T) {
	span.SetAttributes(Finding(name, v))
}

// RecordMetric records one metric as a span event named "metric" with
// metric.name, metric.value and metric.unit (omitted when empty), plus
// attrs.
func RecordMetric(span trace.Span, name string, value float64, unit string, attrs ...attribute.KeyValue) {
	kv := make([]attribute.KeyValue, 0, 3+len(attrs))
	kv = append(kv, MetricName.String(name), MetricValue.Float64(value))
	if unit != "" {
		kv = append(kv, MetricUnit.String(unit))
	}
	kv = append(kv, attrs...)
	span.AddEvent(EventMetric, trace.WithAttributes(kv...))
}
