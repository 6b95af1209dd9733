// Package hostiletest makes the hostile inputs that the tests of several
// packages, and the reliability suite, feed stagetrace: values nested past
// stagetrace.MaxDepth and YAML alias bombs.
package hostiletest

import (
	"fmt"
	"strings"

	"github.com/stagetrace/stagetrace"
)

// Nested returns depth slices and maps, alternately, one inside the other
// around the string "bottom".
func Nested(depth int) stagetrace.Value {
	v := stagetrace.StringValue("bottom")
	for i := range depth {
		if i%2 == 0 {
			v = stagetrace.SliceValue(v)
		} else {
			v = stagetrace.MapValue(stagetrace.Attr{Key: "m", Value: v})
		}
	}
	return v
}

// AliasBomb returns a rules file of aliases+1 rules that share, through
// an alias, one anchored list of conditions attribute conditions: a small
// file that stands for conditions*(aliases+1) conditions.
func AliasBomb(conditions, aliases int) []byte {
	var b strings.Builder
	b.WriteString("rules:\n  - name: r0\n    stage: s\n    match:\n      attributes: &conds\n")
	for i := range conditions {
		fmt.Fprintf(&b, "        - {key: k%d, exists: true}\n", i)
	}
	for i := range aliases {
		fmt.Fprintf(&b, "  - {name: r%d, stage: s, match: {attributes: *conds}}\n", i+1)
	}
	return []byte(b.String())
}
