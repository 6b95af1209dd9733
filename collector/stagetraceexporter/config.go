package stagetraceexporter

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/stagetrace/stagetrace/rules"
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
	// StageEvents synthesizes stage_start and stage_end events on each
	// span that opens a stage.
	StageEvents bool `mapstructure:"stage_events"`
	// RulesFile is a stagetrace rules file applied to each mapped span.
	RulesFile string `mapstructure:"rules_file"`
	// Presets are rule presets: genai, openinference, openllmetry.
	Presets []string `mapstructure:"presets"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// JSONLConfig configures the JSON Lines sink.
type JSONLConfig struct {
	// Path is the file written to.
	Path string `mapstructure:"path"`
	// MaxSizeBytes rotates the file once it reaches this size; 0 never.
	MaxSizeBytes int64 `mapstructure:"max_size_bytes"`
	// MaxBackups is the number of rotated files kept.
	MaxBackups int `mapstructure:"max_backups"`
}

// SQLiteConfig configures the SQLite sink.
type SQLiteConfig struct {
	// Path is the database file.
	Path string `mapstructure:"path"`
	// TTL deletes runs older than this; 0 keeps everything.
	TTL time.Duration `mapstructure:"ttl"`
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.JSONL == nil && c.SQLite == nil {
		errs = append(errs, errors.New("jsonl, sqlite: at least one sink must be configured"))
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
	if c.RulesFile != "" {
		if _, err := os.Stat(c.RulesFile); err != nil {
			errs = append(errs, fmt.Errorf("rules_file: %w", err))
		}
	}
	known := rules.PresetNames()
	for i, p := range c.Presets {
		found := false
		for _, k := range known {
			found = found || k == p
		}
		if !found {
			errs = append(errs, fmt.Errorf("presets[%d]: unknown preset %q (known: %v)", i, p, known))
		}
	}
	return errors.Join(errs...)
}
