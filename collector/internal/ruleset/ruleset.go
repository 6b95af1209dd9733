// Package ruleset loads the rules.Set a collector component is configured
// with.
package ruleset

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/stagetrace/stagetrace/rules"
)

// ErrPricesWithRulesFile rejects a prices key beside a rules_file: a Set
// has one price table, and the rules file's prices section is its place.
var ErrPricesWithRulesFile = errors.New("prices: give the price table in the rules file's prices section when rules_file is set")

// ErrPricesInProcessor rejects a prices key in the stagetrace processor's
// configuration: the processor places spans and computes no cost.
var ErrPricesInProcessor = errors.New("prices: the stagetrace processor computes no cost; give the price table to the stagetrace exporter (its prices key, or the prices section of its rules_file)")

// ProcessorPricesWarning is what the stagetrace processor logs at startup
// when its rules file holds a price table, which it never applies.
func ProcessorPricesWarning(path string) string {
	return fmt.Sprintf("rules_file %s: its prices section has no effect in the stagetrace processor, which places spans and computes no cost; give the same rules_file (or a prices key) to the stagetrace exporter, which computes costs", path)
}

// Load returns the Set of the rules file path, the presets and the price
// table prices: nil when all are empty. A price table may come from the
// rules file or from prices, not both: a Set has one.
func Load(path string, presets []string, prices *rules.Prices) (*rules.Set, error) {
	switch {
	case path != "" && prices != nil:
		return nil, ErrPricesWithRulesFile
	case path != "":
		return rules.LoadFileWithPresets(path, presets...)
	case len(presets) > 0 || prices != nil:
		set, err := rules.Compile(rules.Config{Presets: presets, Prices: prices})
		if err != nil {
			return nil, fmt.Errorf("stagetrace: %w", err)
		}
		return set, nil
	}
	return nil, nil
}

// Check checks the rules_file and presets keys of a component's
// configuration, naming the key at fault: the file must exist and every
// preset must be known. The file's content is checked when it is loaded.
func Check(path string, presets []string) []error {
	var errs []error
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("rules_file: %w", err))
		}
	}
	known := rules.PresetNames()
	for i, p := range presets {
		if !slices.Contains(known, p) {
			errs = append(errs, fmt.Errorf("presets[%d]: unknown preset %q (known: %v)", i, p, known))
		}
	}
	return errs
}
