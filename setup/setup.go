package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/httpsink"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// Names of the environment variables setup reads.
const (
	EnvSinks       = "STAGETRACE_SINKS"
	EnvRules       = "STAGETRACE_RULES"
	EnvPresets     = "STAGETRACE_PRESETS"
	EnvBaggageKeys = "STAGETRACE_BAGGAGE_KEYS"
	EnvRunID       = "STAGETRACE_RUN_ID"
	EnvLogs        = "STAGETRACE_LOGS"
)

// Sink kinds a sink spec may name.
const (
	KindJSONL  = "jsonl"
	KindSQLite = "sqlite"
	KindHTTP   = "http"
	// KindPostgres is a PostgreSQL store; its target is a postgres://
	// URL, whose password is never printed.
	KindPostgres = "postgres"
)

var knownKinds = []string{KindJSONL, KindSQLite, KindHTTP, KindPostgres}

// Option configures Install and NewExporter. An option overrides the
// environment variable of the same setting.
type Option func(*config)

type config struct {
	getenv func(string) string
	global bool

	sinks    []stagetrace.Sink // WithSinks
	sinkSpec *string           // WithSinkSpec
	rules    *string           // WithRulesFile
	presets  []string          // WithPresets
	presetsSet,
	baggageSet bool
	baggage []string // WithBaggageKeys
	runID   *string  // WithRunID

	resource *resource.Resource
	procOpts []processor.Option
	expOpts  []exporter.Option
	tpOpts   []sdktrace.TracerProviderOption
	logs     bool
	lpOpts   []sdklog.LoggerProviderOption
}

// WithEnv sets the lookup STAGETRACE_* variables are read with; it
// defaults to os.Getenv. A lookup returning "" means unset. The OTEL_*
// resource variables are always read from the process environment.
func WithEnv(getenv func(string) string) Option {
	return func(c *config) { c.getenv = getenv }
}

// WithGlobal makes the new TracerProvider the global one
// (otel.SetTracerProvider) and sets the global propagator to W3C
// TraceContext and Baggage, so that instrumentation libraries using the
// globals, such as otelhttp, are traced and carry run ids across services.
// Shutdown does not restore the previous globals.
func WithGlobal() Option {
	return func(c *config) { c.global = true }
}

// WithSinks adds sinks, in place of the sinks of STAGETRACE_SINKS. Install
// owns them from the call on: they are shut down with the provider, and
// also when Install fails.
func WithSinks(sinks ...stagetrace.Sink) Option {
	return func(c *config) { c.sinks = append(c.sinks, sinks...) }
}

// WithSinkSpec sets the sinks in the syntax of STAGETRACE_SINKS, in place
// of that variable; sinks of WithSinks are kept as well.
func WithSinkSpec(spec string) Option {
	return func(c *config) { c.sinkSpec = &spec }
}

// WithRulesFile sets the rules file, in place of STAGETRACE_RULES. An
// empty path means no rules file.
func WithRulesFile(path string) Option {
	return func(c *config) { c.rules = &path }
}

// WithPresets sets the rule presets (see rules.PresetNames), in place of
// STAGETRACE_PRESETS. No names means no presets.
func WithPresets(names ...string) Option {
	return func(c *config) { c.presets, c.presetsSet = names, true }
}

// WithBaggageKeys sets the W3C baggage members the processor trusts (see
// processor.WithBaggageKeys), in place of STAGETRACE_BAGGAGE_KEYS.
func WithBaggageKeys(keys ...string) Option {
	return func(c *config) { c.baggage, c.baggageSet = keys, true }
}

// WithRunID sets the run of spans nothing else places in a run (see
// processor.WithDefaultRunID), in place of STAGETRACE_RUN_ID. An empty id
// means no default.
func WithRunID(id string) Option {
	return func(c *config) { c.runID = &id }
}

// WithResource sets the resource of the TracerProvider. By default it is
// the SDK's default resource merged with OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES.
func WithResource(r *resource.Resource) Option {
	return func(c *config) { c.resource = r }
}

// WithProcessorOptions adds options to the stagetrace processor, after
// those setup derives.
func WithProcessorOptions(opts ...processor.Option) Option {
	return func(c *config) { c.procOpts = append(c.procOpts, opts...) }
}

// WithExporterOptions adds options to the stagetrace exporter, after those
// setup derives.
func WithExporterOptions(opts ...exporter.Option) Option {
	return func(c *config) { c.expOpts = append(c.expOpts, opts...) }
}

// WithTracerProviderOptions adds options to the TracerProvider, after the
// stagetrace processor and exporter: for instance
// sdktrace.WithBatcher(otlpExporter) to export beside stagetrace. Unless
// OTEL_TRACES_SAMPLER is set, the provider's sampler is the processor's
// (processor.Processor.Sampler, around the SDK's default); a
// sdktrace.WithSampler given here replaces it, and the processor then
// places spans in OnStart, at a little more cost per span.
func WithTracerProviderOptions(opts ...sdktrace.TracerProviderOption) Option {
	return func(c *config) { c.tpOpts = append(c.tpOpts, opts...) }
}

// WithLogs also builds a Logs SDK LoggerProvider
// (Installation.LoggerProvider) whose records become log events in the
// same sinks: each is placed in the run and stage of the span it was
// logged in by the stagetrace processor's rules (logexporter.NewProcessor)
// and exported behind a batcher. opts are added after those, for instance
// sdklog.WithProcessor(otherProcessor). With WithGlobal the provider is
// made the global one too (otel.SetLoggerProvider), which the otelslog bridge uses by
// default. STAGETRACE_LOGS=true asks for the same.
func WithLogs(opts ...sdklog.LoggerProviderOption) Option {
	return func(c *config) { c.logs, c.lpOpts = true, append(c.lpOpts, opts...) }
}

func newConfig(opts []Option) *config {
	c := &config{getenv: os.Getenv}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	return c
}

// setting returns the option value when set, else the variable's value.
func (c *config) setting(opt *string, env string) string {
	if opt != nil {
		return *opt
	}
	return strings.TrimSpace(c.getenv(env))
}

// list returns the option values when set, else the variable's
// comma-separated values.
func (c *config) list(set bool, opt []string, env string) []string {
	if set {
		return opt
	}
	return splitList(c.getenv(env))
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SinkSpec is one parsed entry of a sink spec: a kind and its target.
type SinkSpec struct {
	Kind   string // jsonl, sqlite, http or postgres
	Target string // a file path, or a URL for http and postgres
}

// ParseSinkSpec parses a comma-separated list of kind:target entries, the
// syntax of STAGETRACE_SINKS. Each entry is split at its first colon, so
// that URLs keep theirs. Empty entries are skipped.
func ParseSinkSpec(spec string) ([]SinkSpec, error) {
	var out []SinkSpec
	for _, e := range strings.Split(spec, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		kind, target, ok := strings.Cut(e, ":")
		kind, target = strings.TrimSpace(kind), strings.TrimSpace(target)
		if !ok {
			return nil, fmt.Errorf("%q is not kind:target (known kinds: %s)", redactEntry(e), strings.Join(knownKinds, ", "))
		}
		if !slices.Contains(knownKinds, kind) {
			return nil, fmt.Errorf("unknown sink kind %q in %q (known: %s)", kind, redactEntry(e), strings.Join(knownKinds, ", "))
		}
		if target == "" {
			return nil, fmt.Errorf("empty target in %q", e)
		}
		if kind == KindPostgres && !postgressink.IsURL(target) {
			return nil, fmt.Errorf("the target of %q is not a postgres:// URL", redactEntry(e))
		}
		out = append(out, SinkSpec{Kind: kind, Target: target})
	}
	return out, nil
}

// open opens the sink s describes.
func (s SinkSpec) open(ctx context.Context) (stagetrace.Sink, error) {
	switch s.Kind {
	case KindJSONL:
		return jsonlsink.New(s.Target)
	case KindSQLite:
		return sqlitesink.Open(s.Target)
	case KindHTTP:
		return httpsink.New(s.Target)
	case KindPostgres:
		return postgressink.Open(ctx, s.Target)
	}
	return nil, fmt.Errorf("unknown sink kind %q", s.Kind)
}

// String returns the spec as kind:target, a URL's password masked.
func (s SinkSpec) String() string { return s.Kind + ":" + redactTarget(s.Target) }

// redactEntry masks the password of the URL in a kind:target entry.
func redactEntry(e string) string {
	kind, target, ok := strings.Cut(e, ":")
	if !ok {
		return redactTarget(e)
	}
	return kind + ":" + redactTarget(target)
}

// redactTarget masks the password of a URL target; a path stays as it is.
func redactTarget(target string) string {
	if strings.Contains(target, "://") {
		return postgressink.Redacted(strings.TrimSpace(target))
	}
	return target
}

// resolved is the configuration after options and environment are merged
// and checked, before anything is opened.
type resolved struct {
	logs      bool // WithLogs, or STAGETRACE_LOGS true
	specs     []SinkSpec
	specsFrom string // EnvSinks, or the option name
	rules     *rules.Set
	procOpts  []processor.Option
}

func errVar(name string, err error) error { return fmt.Errorf("setup: %s: %w", name, err) }

// resolve checks every setting; it opens nothing.
func (c *config) resolve() (resolved, error) {
	var r resolved
	r.specsFrom = EnvSinks
	spec := c.setting(c.sinkSpec, EnvSinks)
	if c.sinkSpec != nil {
		r.specsFrom = "WithSinkSpec"
	} else if len(c.sinks) > 0 {
		spec = "" // WithSinks replaces the variable.
	}
	specs, err := ParseSinkSpec(spec)
	if err != nil {
		return r, errVar(r.specsFrom, err)
	}
	if len(specs) == 0 && len(c.sinks) == 0 {
		return r, errVar(EnvSinks, errors.New("no sinks configured: set it, e.g. to jsonl:./stagetrace-out/runs.jsonl, or use setup.WithSinks"))
	}
	r.specs = specs

	set, err := c.ruleSet()
	if err != nil {
		return r, err
	}
	r.rules = set

	keys := c.list(c.baggageSet, c.baggage, EnvBaggageKeys)
	for _, k := range keys {
		if k != "run.id" && k != "run.stage" {
			return r, errVar(EnvBaggageKeys, fmt.Errorf("unknown baggage key %q (known: run.id, run.stage)", k))
		}
	}
	if len(keys) > 0 {
		r.procOpts = append(r.procOpts, processor.WithBaggageKeys(keys...))
	}
	if id := c.setting(c.runID, EnvRunID); id != "" {
		r.procOpts = append(r.procOpts, processor.WithDefaultRunID(id))
	}
	if set != nil {
		r.procOpts = append(r.procOpts, processor.WithRules(set))
	}
	r.procOpts = append(r.procOpts, c.procOpts...)
	r.logs = c.logs
	if !c.logs {
		switch v := strings.ToLower(strings.TrimSpace(c.getenv(EnvLogs))); v {
		case "", "0", "false", "no", "off":
		case "1", "true", "yes", "on":
			r.logs = true
		default:
			return r, errVar(EnvLogs, fmt.Errorf("%q is not true or false", v))
		}
	}
	return r, nil
}

// ruleSet compiles the rules file and the presets; presets given beside a
// file join those the file lists.
func (c *config) ruleSet() (*rules.Set, error) {
	path := c.setting(c.rules, EnvRules)
	presets := c.list(c.presetsSet, c.presets, EnvPresets)
	for _, p := range presets {
		if _, err := rules.Preset(p); err != nil {
			return nil, errVar(EnvPresets, fmt.Errorf("%w", err))
		}
	}
	if path == "" {
		if len(presets) == 0 {
			return nil, nil
		}
		set, err := rules.Compile(rules.Config{Presets: presets})
		if err != nil {
			return nil, errVar(EnvPresets, fmt.Errorf("%w (known: %s)", err, strings.Join(rules.PresetNames(), ", ")))
		}
		return set, nil
	}
	// Presets from the option or the variable join those the file lists.
	set, err := rules.LoadFileWithPresets(path, presets...)
	if err != nil {
		return nil, errVar(EnvRules, err)
	}
	return set, nil
}

// openSinks opens the sinks of r after those of c. On error it shuts down
// every sink, given or opened.
func (c *config) openSinks(ctx context.Context, r resolved) ([]stagetrace.Sink, error) {
	sinks := append([]stagetrace.Sink(nil), c.sinks...)
	for _, s := range r.specs {
		sink, err := s.open(ctx)
		if err != nil {
			return nil, errors.Join(errVar(r.specsFrom, fmt.Errorf("%s: %w", s, err)), shutdownSinks(ctx, sinks))
		}
		sinks = append(sinks, sink)
	}
	return sinks, nil
}

func shutdownSinks(ctx context.Context, sinks []stagetrace.Sink) error {
	var errs []error
	for _, s := range sinks {
		errs = append(errs, s.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// newExporter opens the sinks and builds the exporter that owns them.
func (c *config) newExporter(ctx context.Context, r resolved) (*exporter.Exporter, error) {
	sinks, err := c.openSinks(ctx, r)
	if err != nil {
		return nil, err
	}
	opts := []exporter.Option{exporter.WithSinks(sinks...)}
	if r.rules != nil {
		opts = append(opts, exporter.WithRules(r.rules))
	}
	opts = append(opts, c.expOpts...)
	exp, err := exporter.New(opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("setup: %w", err), shutdownSinks(ctx, sinks))
	}
	return exp, nil
}

// NewExporter returns a stagetrace exporter built from the options and the
// environment as Install builds it, for a TracerProvider set up
// elsewhere. It has no processor: the baggage keys and the default run id
// are checked but have no effect, and spans are placed in runs only by
// their own attributes (or filed under their trace id). The exporter owns
// its sinks; nothing is left open when it fails.
func NewExporter(ctx context.Context, opts ...Option) (*exporter.Exporter, error) {
	c := newConfig(opts)
	r, err := c.resolve()
	if err != nil {
		return nil, errors.Join(err, shutdownSinks(ctx, c.sinks))
	}
	return c.newExporter(ctx, r)
}

// Installation is stagetrace installed on a TracerProvider by Install.
type Installation struct {
	tp       *sdktrace.TracerProvider
	lp       *sdklog.LoggerProvider // nil without WithLogs
	proc     *processor.Processor
	exp      *exporter.Exporter
	once     sync.Once
	shutdown error
}

// Install builds the stagetrace processor, exporter and sinks from the
// options and the environment and registers them on a new TracerProvider:
// the processor first, then the exporter behind a batcher, then whatever
// WithTracerProviderOptions adds. A bad setting fails with an error naming
// its variable (or option); nothing is left open when Install fails.
// Call Shutdown on the result before the program exits.
func Install(ctx context.Context, opts ...Option) (*Installation, error) {
	c := newConfig(opts)
	r, err := c.resolve()
	if err != nil {
		return nil, errors.Join(err, shutdownSinks(ctx, c.sinks))
	}
	res := c.resource
	if res == nil {
		fromEnv, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
		if err != nil && fromEnv == nil {
			return nil, errors.Join(fmt.Errorf("setup: resource: %w", err), shutdownSinks(ctx, c.sinks))
		}
		// Merge fails only on conflicting schema URLs; keep the
		// environment's resource then.
		if merged, err := resource.Merge(resource.Default(), fromEnv); err == nil {
			res = merged
		} else {
			res = fromEnv
		}
	}
	exp, err := c.newExporter(ctx, r)
	if err != nil {
		return nil, err
	}
	proc := processor.New(r.procOpts...)
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(proc),
		sdktrace.WithBatcher(exp),
	}
	if os.Getenv("OTEL_TRACES_SAMPLER") == "" {
		// The processor places spans through its sampler, wrapping the
		// SDK's default; a sampler chosen in the environment, or given in
		// the provider options below, is left in place, and the processor
		// then places spans in OnStart.
		tpOpts = append(tpOpts, sdktrace.WithSampler(proc.Sampler(nil)))
	}
	tpOpts = append(tpOpts, c.tpOpts...)
	inst := &Installation{proc: proc, exp: exp}
	if r.logs {
		lexp, err := logexporter.New(logexporter.WithFanout(exp.Fanout()), logexporter.WithRedactor(exp.Redactor()))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("setup: %w", err), exp.Shutdown(ctx))
		}
		inst.lp = sdklog.NewLoggerProvider(append([]sdklog.LoggerProviderOption{
			sdklog.WithResource(res),
			sdklog.WithProcessor(logexporter.NewProcessor(proc)),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)),
		}, c.lpOpts...)...)
	}
	inst.tp = sdktrace.NewTracerProvider(tpOpts...)
	if c.global {
		otel.SetTracerProvider(inst.tp)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		if inst.lp != nil {
			otel.SetLoggerProvider(inst.lp)
		}
	}
	return inst, nil
}

// TracerProvider returns the provider stagetrace is registered on.
func (i *Installation) TracerProvider() *sdktrace.TracerProvider { return i.tp }

// Exporter returns the stagetrace exporter.
func (i *Installation) Exporter() *exporter.Exporter { return i.exp }

// Processor returns the stagetrace processor.
func (i *Installation) Processor() *processor.Processor { return i.proc }

// LoggerProvider returns the provider whose log records become log
// events, or nil when Install was not given WithLogs.
func (i *Installation) LoggerProvider() *sdklog.LoggerProvider { return i.lp }

// Shutdown flushes every log record emitted and span ended so far to the
// sinks and then shuts down the providers, their processors and
// exporters, and the sinks: the LoggerProvider first, since the span
// exporter owns the sinks both write to. Calls after the first return the
// first call's result.
func (i *Installation) Shutdown(ctx context.Context) error {
	i.once.Do(func() {
		var errs []error
		if i.lp != nil {
			errs = append(errs, i.lp.ForceFlush(ctx), i.lp.Shutdown(ctx))
		}
		i.shutdown = errors.Join(append(errs, i.tp.ForceFlush(ctx), i.tp.Shutdown(ctx))...)
	})
	return i.shutdown
}
