// Package ruleset loads the rules.Set a collector component is configured
// with.
package ruleset

import (
	"github.com/stagetrace/stagetrace/rules"
)

// Load returns the Set of the rules file path and the presets: nil when
// both are empty.
func Load(path string, presets []string) (*rules.Set, error) {
	switch {
	case path != "":
		return rules.LoadFileWithPresets(path, presets...)
	case len(presets) > 0:
		return rules.Compile(rules.Config{Presets: presets})
	}
	return nil, nil
}
