package stagetraceexporter

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
	"github.com/stagetrace/stagetrace/internal/yamlnode"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/postgressink"
)

// Config is the configuration of the stagetrace exporter.
type Config struct {
	// TimeoutConfig bounds each export call (timeout).
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// QueueConfig is the sending queue (sending_queue).
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// RetryConfig retries failed writes (retry_on_failure); writes that
	// failed because of the data are not retried.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// JSONL, when set, writes records to a JSON Lines file.
	JSONL *JSONLConfig `mapstructure:"jsonl"`
	// SQLite, when set, writes records to a SQLite store.
	SQLite *SQLiteConfig `mapstructure:"sqlite"`
	// Postgres, when set, writes records to a PostgreSQL store, which
	// many collectors may share.
	Postgres *PostgresConfig `mapstructure:"postgres"`
	// StageEvents synthesizes stage_start and stage_end events on each
	// span that opens a stage.
	StageEvents bool `mapstructure:"stage_events"`
	// RulesFile is a stagetrace rules file applied to each mapped span:
	// its end phase (findings, attributes) and its prices.
	RulesFile string `mapstructure:"rules_file"`
	// Presets are rule presets: genai, openinference, openllmetry.
	Presets []string `mapstructure:"presets"`
	// Prices is the price table the cost of each span is computed with,
	// when no rules file is given (a rules file holds its own).
	Prices *PricesConfig `mapstructure:"prices"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// JSONLConfig configures the JSON Lines sink.
type JSONLConfig struct {
	// Path is the file written to.
	Path string `mapstructure:"path"`
	// MaxSizeBytes rotates the file once it reaches this size; 0 never.
	MaxSizeBytes int64 `mapstructure:"max_size_bytes"`
	// MaxBackups is the number of rotated files kept; 0, which the key
	// cannot tell from unset, keeps jsonlsink.DefaultMaxBackups.
	MaxBackups int `mapstructure:"max_backups"`
	// PreallocateBytes is how far past the end of the file its blocks are
	// reserved at a time (jsonlsink.WithPreallocate); 0 turns it off,
	// unset keeps jsonlsink.DefaultPreallocate.
	PreallocateBytes *int64 `mapstructure:"preallocate_bytes"`
}

// Unmarshal refuses a max_size_bytes or preallocate_bytes that no int64
// holds: YAML reads such a number as a float, which would otherwise turn
// into MinInt64 and be refused as negative.
func (j *JSONLConfig) Unmarshal(conf *confmap.Conf) error {
	for _, key := range []string{"max_size_bytes", "preallocate_bytes"} {
		if f, ok := conf.Get(key).(float64); ok && (f >= math.MaxInt64 || f < math.MinInt64 || f != math.Trunc(f)) {
			return fmt.Errorf("jsonl.%s: want a whole number of bytes up to %d, got %v", key, int64(math.MaxInt64), f)
		}
	}
	return conf.Unmarshal(j)
}

// SQLiteConfig configures the SQLite sink.
type SQLiteConfig struct {
	// Path is the database file.
	Path string `mapstructure:"path"`
	// TTL deletes runs older than this; 0 keeps everything.
	TTL time.Duration `mapstructure:"ttl"`
}

// PostgresConfig configures the PostgreSQL sink.
type PostgresConfig struct {
	// URL is the database, postgres://user:password@host:port/db; give
	// the password from the environment (${env:STAGETRACE_PG_PASSWORD}).
	// It is opaque: the collector never prints it.
	URL configopaque.String `mapstructure:"url"`
	// TTL deletes runs older than this; 0 keeps everything. Of the
	// collectors sharing a database, one at a time deletes.
	TTL time.Duration `mapstructure:"ttl"`
	// MaxConns is the number of connections the exporter opens at most;
	// 0 is postgressink.DefaultMaxConns.
	MaxConns int `mapstructure:"max_conns"`
}

// PricesConfig is a price table: what a million tokens cost, per model.
type PricesConfig struct {
	// Currency is the ISO 4217 code of every price; default USD.
	Currency string `mapstructure:"currency"`
	// Models maps a model name, or a glob such as "gpt-4o-*", to its
	// prices; an exact name wins over a glob.
	Models map[string]ModelPriceConfig `mapstructure:"models"`
}

// ModelPriceConfig is the price of a million tokens of one model.
type ModelPriceConfig struct {
	// Input and Output are the prices of a million uncached input tokens
	// and of a million output tokens; both are required.
	Input  *float64 `mapstructure:"input"`
	Output *float64 `mapstructure:"output"`
	// CacheRead and CacheCreation are the prices of a million input
	// tokens read from and written to the provider's cache; default Input.
	CacheRead     *float64 `mapstructure:"cache_read"`
	CacheCreation *float64 `mapstructure:"cache_creation"`
}

var _ confmap.Unmarshaler = (*PricesConfig)(nil)

// priceKeys are the keys of a model's prices.
var priceKeys = []string{"input", "output", "cache_read", "cache_creation"}

// Unmarshal reads the price table from conf. A price given as a string is
// refused with an error naming the field and the value: YAML reads a
// number too large for a float (1e400) as a string, which the generic
// decoder would only call "unconvertible".
func (p *PricesConfig) Unmarshal(conf *confmap.Conf) error {
	models, _ := conf.Get("models").(map[string]any)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(models)) {
		m, _ := models[name].(map[string]any)
		for _, key := range priceKeys {
			s, ok := m[key].(string)
			if !ok {
				continue
			}
			got := fmt.Sprintf("the string %q", yamlnode.Quote(s))
			if yamlnode.NumberOutOfRange(s) {
				got = yamlnode.Quote(s) + ", a number out of range"
			}
			errs = append(errs, fmt.Errorf("prices.models[%s].%s: want a price per million tokens, got %s", name, key, got))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return conf.Unmarshal(p)
}

// rulesPrices returns the table as the rules package takes it, models in
// name order so that the first matching glob is the same on every start.
func (p *PricesConfig) rulesPrices() (*rules.Prices, error) {
	if p == nil {
		return nil, nil
	}
	out := &rules.Prices{Currency: p.Currency}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(p.Models)) {
		m := p.Models[name]
		field := "prices.models[" + name + "]"
		if m.Input == nil || m.Output == nil {
			errs = append(errs, fmt.Errorf("%s: give both input and output prices (per million tokens)", field))
			continue
		}
		out.Models = append(out.Models, rules.ModelPrice{
			Model: name, Input: *m.Input, Output: *m.Output,
			CacheRead: m.CacheRead, CacheCreation: m.CacheCreation,
		})
	}
	if len(p.Models) == 0 {
		errs = append(errs, errors.New("prices.models: must price at least one model"))
	}
	return out, errors.Join(errs...)
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.JSONL == nil && c.SQLite == nil && c.Postgres == nil {
		errs = append(errs, errors.New("jsonl, sqlite, postgres: at least one sink must be configured"))
	}
	if p := c.Postgres; p != nil {
		// Never the URL itself in a message: it holds the password.
		if !postgressink.IsURL(string(p.URL)) {
			errs = append(errs, errors.New("postgres.url: must be a postgres:// URL"))
		}
		if p.TTL < 0 {
			errs = append(errs, fmt.Errorf("postgres.ttl: must not be negative, got %v", p.TTL))
		}
		if p.MaxConns != 0 && (p.MaxConns < 2 || p.MaxConns > 1000) {
			errs = append(errs, fmt.Errorf("postgres.max_conns: must be 0 (the default) or between 2 and 1000, got %d", p.MaxConns))
		}
	}
	if c.JSONL != nil {
		if c.JSONL.Path == "" {
			errs = append(errs, errors.New("jsonl.path: must not be empty"))
		}
		if c.JSONL.MaxSizeBytes < 0 {
			errs = append(errs, fmt.Errorf("jsonl.max_size_bytes: must not be negative, got %d", c.JSONL.MaxSizeBytes))
		}
		if c.JSONL.MaxBackups < 0 {
			errs = append(errs, fmt.Errorf("jsonl.max_backups: must not be negative, got %d", c.JSONL.MaxBackups))
		}
		if p := c.JSONL.PreallocateBytes; p != nil && *p < 0 {
			errs = append(errs, fmt.Errorf("jsonl.preallocate_bytes: must not be negative, got %d", *p))
		}
	}
	if c.SQLite != nil {
		if c.SQLite.Path == "" {
			errs = append(errs, errors.New("sqlite.path: must not be empty"))
		}
		if c.SQLite.TTL < 0 {
			errs = append(errs, fmt.Errorf("sqlite.ttl: must not be negative, got %v", c.SQLite.TTL))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: must not be negative, got %v", c.Timeout))
	}
	errs = append(errs, ruleset.Check(c.RulesFile, c.Presets)...)
	if c.Prices != nil {
		prices, err := c.Prices.rulesPrices()
		switch {
		case err != nil:
			errs = append(errs, err)
		case c.RulesFile != "":
			errs = append(errs, ruleset.ErrPricesWithRulesFile)
		default:
			// The rules package checks the prices themselves (currency,
			// negative or oversized prices) and names the field.
			if _, err := rules.Compile(rules.Config{Prices: prices}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
