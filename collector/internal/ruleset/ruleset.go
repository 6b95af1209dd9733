// Package ruleset loads the rules.Set a collector component is configured
// with.
package ruleset

import (
	"errors"
	"fmt"

	"github.com/stagetrace/stagetrace/rules"
)

// Load returns the Set of the rules file path, the presets and the price
// table prices: nil when all are empty. A price table may come from the
// rules file or from prices, not both: a Set has one.
func Load(path string, presets []string, prices *rules.Prices) (*rules.Set, error) {
	switch {
	case path != "" && prices != nil:
		return nil, errors.New("prices: give the price table in the rules file's prices section when rules_file is set")
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
