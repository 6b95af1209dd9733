package monitor

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/usage"
)

// Names of the GenAI client metrics the monitor records through a
// MeterProvider given with WithMeterProvider, as the GenAI semantic
// conventions name them.
const (
	// MetricGenAIOperationDuration is the duration of a GenAI call, in
	// seconds (histogram).
	MetricGenAIOperationDuration = "gen_ai.client.operation.duration"
	// MetricGenAITokenUsage is the tokens a call used, by
	// gen_ai.token.type input or output (histogram).
	MetricGenAITokenUsage = "gen_ai.client.token.usage"
	// MetricGenAITimeToFirstChunk is the seconds from the request to the
	// first chunk of a streamed response (histogram).
	MetricGenAITimeToFirstChunk = "gen_ai.client.operation.time_to_first_chunk"
)

// Bucket boundaries the conventions advise.
var (
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
)

// Attribute keys and values of the GenAI client metrics.
const (
	keyTokenType   attribute.Key = "gen_ai.token.type"
	keyErrorType   attribute.Key = "error.type"
	errorTypeOther               = "_OTHER"
)

// WithMeterProvider records the GenAI client metrics (MetricGenAI*) of
// every GenAI call written to the monitor through mp, so that Prometheus or
// any metrics backend sees them. A GenAI call is a span with a model
// finding or token counts, as the rule presets record them.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// genAIMetrics holds the instruments; a nil *genAIMetrics records nothing.
type genAIMetrics struct {
	duration metric.Float64Histogram
	tokens   metric.Int64Histogram
	ttfc     metric.Float64Histogram

	// opts caches the attribute options of each combination of metric
	// attributes: spans of one model repeat them, and building a set per
	// record would cost more than the monitor's own work on the span.
	mu   sync.Mutex
	opts map[attrKey]*attrOpts
}

// maxAttrSets bounds the cached combinations; beyond it options are built
// per span.
const maxAttrSets = 1024

// attrKey is a combination of metric attributes.
type attrKey struct {
	op, provider, request, response string
}

// attrOpts are the record options of one attrKey.
type attrOpts struct {
	common, failed, input, output metric.MeasurementOption
}

func (k attrKey) build() *attrOpts {
	attrs := make([]attribute.KeyValue, 0, 5)
	for _, kv := range [...]struct {
		key attribute.Key
		v   string
	}{
		{attributes.GenAIOperationName, k.op}, {attributes.GenAIProviderName, k.provider},
		{attributes.GenAIRequestModel, k.request}, {attributes.GenAIResponseModel, k.response},
	} {
		if kv.v != "" {
			attrs = append(attrs, kv.key.String(kv.v))
		}
	}
	with := func(kv attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(append(attrs[:len(attrs):len(attrs)], kv)...))
	}
	return &attrOpts{
		common: metric.WithAttributeSet(attribute.NewSet(attrs...)),
		failed: with(keyErrorType.String(errorTypeOther)),
		input:  with(keyTokenType.String("input")),
		output: with(keyTokenType.String("output")),
	}
}

func (g *genAIMetrics) options(k attrKey) *attrOpts {
	g.mu.Lock()
	defer g.mu.Unlock()
	if o, ok := g.opts[k]; ok {
		return o
	}
	o := k.build()
	if len(g.opts) < maxAttrSets {
		g.opts[k] = o
	}
	return o
}

func newGenAIMetrics(mp metric.MeterProvider) (*genAIMetrics, error) {
	if mp == nil {
		return nil, nil
	}
	m := mp.Meter("github.com/stagetrace/stagetrace/monitor")
	g := genAIMetrics{opts: make(map[attrKey]*attrOpts)}
	var err error
	if g.duration, err = m.Float64Histogram(MetricGenAIOperationDuration, metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration."), metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, fmt.Errorf("monitor: %s: %w", MetricGenAIOperationDuration, err)
	}
	if g.tokens, err = m.Int64Histogram(MetricGenAITokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used."), metric.WithExplicitBucketBoundaries(tokenBuckets...)); err != nil {
		return nil, fmt.Errorf("monitor: %s: %w", MetricGenAITokenUsage, err)
	}
	if g.ttfc, err = m.Float64Histogram(MetricGenAITimeToFirstChunk, metric.WithUnit("s"),
		metric.WithDescription("Time to receive the first chunk of a streamed response."), metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, fmt.Errorf("monitor: %s: %w", MetricGenAITimeToFirstChunk, err)
	}
	return &g, nil
}

// record records the metrics of span s, whose usage is u, when it is a
// GenAI call, whatever the monitor's retention: a metrics backend keeps its
// own history.
func (g *genAIMetrics) record(ctx context.Context, s *stagetrace.StageSpan, u *usage.Usage) {
	if g == nil {
		return
	}
	model, hasModel := s.Findings.Get(attributes.FindingModel)
	if !u.Counts() && !hasModel {
		return
	}
	var k attrKey
	k.op = s.Stage
	if v, ok := s.Attrs.Get(string(attributes.GenAIOperationName)); ok && v.AsString() != "" {
		k.op = v.AsString()
	}
	if v, ok := s.Findings.Get(attributes.FindingProvider); ok {
		k.provider = v.AsString()
	}
	if v, ok := s.Attrs.Get(string(attributes.GenAIRequestModel)); ok {
		k.request = v.AsString()
	}
	if hasModel {
		k.response = model.AsString()
	}
	o := g.options(k)
	if d := s.EndTime.Sub(s.StartTime); !s.StartTime.IsZero() && !s.EndTime.IsZero() && d >= 0 {
		opt := o.common
		if s.Status == stagetrace.StatusError {
			opt = o.failed
		}
		g.duration.Record(ctx, d.Seconds(), opt)
	}
	for _, t := range [...]struct {
		finding string
		opt     metric.MeasurementOption
	}{
		{attributes.FindingInputTokens, o.input},
		{attributes.FindingOutputTokens, o.output},
	} {
		// A count that is not one (usage.TokenCount) is left out, as the
		// one accounting leaves it out.
		if v, ok := s.Findings.Get(t.finding); ok {
			if n, ok := usage.TokenCount(v); ok {
				g.tokens.Record(ctx, n, t.opt)
			}
		}
	}
	if v, ok := s.Findings.Get(attributes.FindingTimeToFirstChunk); ok {
		if f, num := v.Number(); num && f >= 0 {
			g.ttfc.Record(ctx, f, o.common)
		}
	}
}
