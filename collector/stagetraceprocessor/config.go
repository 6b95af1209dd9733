package stagetraceprocessor

import (
	"errors"

	"github.com/stagetrace/stagetrace/collector/internal/ruleset"
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
	// RulesFile is a stagetrace rules file (YAML). The processor runs its
	// start phase: the stages and attributes rules give. Findings and
	// costs are the stagetrace exporter's.
	RulesFile string `mapstructure:"rules_file"`
	// Presets are rule presets: genai, openinference, openllmetry.
	Presets []string `mapstructure:"presets"`
	// Prices is accepted only to be refused by Validate with a message
	// naming the place a price table belongs (the stagetrace exporter):
	// the processor computes no cost, and a table here would do nothing.
	Prices map[string]any `mapstructure:"prices"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.RunIDAttribute == "" {
		errs = append(errs, errors.New("run_id_attribute: must not be empty"))
	}
	if c.Prices != nil {
		errs = append(errs, ruleset.ErrPricesInProcessor)
	}
	errs = append(errs, ruleset.Check(c.RulesFile, c.Presets)...)
	return errors.Join(errs...)
}
