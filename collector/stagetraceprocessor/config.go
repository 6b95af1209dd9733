package stagetraceprocessor

import (
	"errors"
	"fmt"
	"os"

	"github.com/stagetrace/stagetrace/rules"
)

// Config is the configuration of the stagetrace processor.
type Config struct {
	// RunIDAttribute is the span attribute holding a span's run id.
	// Default "run.id"; another key is copied into run.id.
	RunIDAttribute string `mapstructure:"run_id_attribute"`
	// RunIDResourceAttribute, when set, is the resource attribute (such
	// as "session.id") giving the run id of spans that neither carry one
	// nor inherit one from a parent in the same batch.
	RunIDResourceAttribute string `mapstructure:"run_id_resource_attribute"`
	// RulesFile is a stagetrace rules file (YAML); rules give stages,
	// attributes and findings.
	RulesFile string `mapstructure:"rules_file"`
	// Presets are rule presets: genai, openinference, openllmetry.
	Presets []string `mapstructure:"presets"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.RunIDAttribute == "" {
		errs = append(errs, errors.New("run_id_attribute: must not be empty"))
	}
	if c.RulesFile != "" {
		if _, err := os.Stat(c.RulesFile); err != nil {
			errs = append(errs, fmt.Errorf("rules_file: %w", err))
		}
	}
	known := rules.PresetNames()
	for i, p := range c.Presets {
		if !contains(known, p) {
			errs = append(errs, fmt.Errorf("presets[%d]: unknown preset %q (known: %v)", i, p, known))
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
