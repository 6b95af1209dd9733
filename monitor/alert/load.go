package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stagetrace/stagetrace/internal/yamlnode"
	"github.com/stagetrace/stagetrace/query"
)

// maxFileSize bounds a rules file, as the rules loader does.
const maxFileSize = 4 << 20

// alertsKey is the top-level key of the alert rules in a rules file; the
// rules loader (package rules) accepts and skips it.
const alertsKey = "alerts"

// Load reads the alert rules under the top-level alerts: key of the
// rules file at path (YAML or JSON), ignoring every other key. Errors are
// *RuleError values naming the file, the line and the rule:
//
//	rules.yaml:14: alert 2 "slow-chat": when: unknown statistic "p959" ...
func Load(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read is Load reading from r; name is the file name errors
// give.
func Read(r io.Reader, name string) (rules []Rule, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, &RuleError{File: name, Err: fmt.Errorf("larger than %d bytes", maxFileSize)}
	}
	// The YAML parser is third-party code fed a file people write; a
	// panic in it must not take the program down.
	defer func() {
		if p := recover(); p != nil {
			rules, err = nil, &RuleError{File: name, Err: fmt.Errorf("yaml: %v", p)}
		}
	}()
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, &RuleError{File: name, Err: err}
	}
	if err := yamlnode.CheckExpansion(&doc); err != nil {
		return nil, &RuleError{File: name, Err: err}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil // not a rules file with alerts; the rules loader says what is wrong
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == alertsKey {
			list = deref(root.Content[i+1])
		}
	}
	if list == nil || (list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null") {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &RuleError{File: name, Line: list.Line, Err: fmt.Errorf("alerts: want a list, got %s", yamlnode.TypeName(list))}
	}
	seen := map[string]int{}
	for i, n := range list.Content {
		n = deref(n)
		p := alertParser{file: name, index: i + 1, node: n}
		r, err := p.parse()
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[r.Name]; ok {
			return nil, p.errAt(n, "name", "also the name of alert %d", prev)
		}
		seen[r.Name] = i + 1
		rules = append(rules, r)
	}
	return rules, nil
}

// deref follows aliases; one that does not resolve is left for the
// caller's type check to report.
func deref(n *yaml.Node) *yaml.Node {
	n, _ = yamlnode.Deref(n)
	return n
}

// alertParser parses one alert rule of a file.
type alertParser struct {
	file  string
	index int
	name  string
	node  *yaml.Node
}

func (p *alertParser) errAt(n *yaml.Node, field, format string, args ...any) *RuleError {
	err := fmt.Errorf(format, args...)
	if field != "" {
		err = fmt.Errorf("%s: %w", field, err)
	}
	return &RuleError{File: p.file, Line: n.Line, Index: p.index, Rule: p.name, Err: err}
}

var alertKeys = "name, level, metric, when, where, window, clear, min_count, message"

func (p *alertParser) parse() (Rule, error) {
	var r Rule
	n := p.node
	if n.Kind != yaml.MappingNode {
		return r, p.errAt(n, "", "want a mapping, got %s", yamlnode.TypeName(n))
	}
	// The name first, so that errors in fields before it can name the
	// rule.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			p.name = n.Content[i+1].Value
		}
	}
	lines := map[string]*yaml.Node{"": n}
	seen := map[string]bool{}
	var whenNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return r, p.errAt(k, "", "want a string key, got %s", yamlnode.TypeName(k))
		}
		if seen[k.Value] {
			return r, p.errAt(k, k.Value, "key given twice")
		}
		seen[k.Value] = true
		lines[k.Value] = v
		var err error
		switch k.Value {
		case "name":
			r.Name, err = p.str(v, "name")
		case "level":
			var s string
			s, err = p.str(v, "level")
			r.Level = Level(s)
		case "metric":
			r.Metric, err = p.str(v, "metric")
		case "message":
			r.Message, err = p.str(v, "message")
		case "when":
			whenNode = v
		case "where":
			var s string
			if s, err = p.str(v, "where"); err == nil {
				r.Where, err = p.where(v, s)
			}
		case "window":
			r.Window, err = p.duration(v, "window")
		case "clear":
			var c float64
			c, err = p.number(v, "clear")
			r.Clear = &c
		case "min_count":
			var c float64
			c, err = p.number(v, "min_count")
			if err == nil && (c != math.Trunc(c) || c < 0) {
				err = p.errAt(v, "min_count", "want a whole number, got %v", c)
			}
			r.MinCount = int64(c)
		default:
			err = p.errAt(k, "", "unknown key %q (known: %s)", k.Value, alertKeys)
		}
		if err != nil {
			return r, err
		}
	}
	if whenNode == nil {
		return r, p.errAt(n, "when", "missing: say what breaches, as \"p95 > 2000\"")
	}
	s, err := p.str(whenNode, "when")
	if err != nil {
		return r, err
	}
	if err := p.when(whenNode, s, &r); err != nil {
		return r, err
	}
	if err := r.validate(); err != nil {
		// Point at the field the fault is in, when it says.
		at := n
		for _, f := range []string{"name", "level", "metric", "where", "window", "clear", "min_count"} {
			if strings.HasPrefix(err.Error(), f+":") || strings.HasPrefix(err.Error(), f+" ") {
				if l := lines[f]; l != nil {
					at = l
				}
			}
		}
		if at == n && strings.Contains(err.Error(), "applies to") {
			at = whenNode // the statistic does not fit the series
		}
		return r, &RuleError{File: p.file, Line: at.Line, Index: p.index, Rule: p.name, Err: err}
	}
	return r, nil
}

func (p *alertParser) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", p.errAt(n, field, "want a string, got %s", yamlnode.TypeName(n))
	}
	if n.Value == "" {
		return "", p.errAt(n, field, "empty string")
	}
	return n.Value, nil
}

func (p *alertParser) number(n *yaml.Node, field string) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		return 0, p.errAt(n, field, "want a number, got %s", yamlnode.TypeName(n))
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, p.errAt(n, field, "bad number %s", n.Value)
	}
	return f, nil
}

func (p *alertParser) duration(n *yaml.Node, field string) (time.Duration, error) {
	s, err := p.str(n, field)
	if err != nil {
		return 0, p.errAt(n, field, "want a duration such as 5m, got %s", yamlnode.TypeName(n))
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, p.errAt(n, field, "want a positive duration such as 5m, got %q", s)
	}
	return d, nil
}

// splitCondition splits "a op b" around its operator.
func splitCondition(s string) (lhs string, op query.Op, rhs string, ok bool) {
	for _, o := range []query.Op{query.OpLe, query.OpGe, query.OpLt, query.OpGt} {
		if i := strings.Index(s, string(o)); i >= 0 {
			return strings.TrimSpace(s[:i]), o, strings.TrimSpace(s[i+len(o):]), true
		}
	}
	for _, bad := range []string{"==", "!=", "="} {
		if i := strings.Index(s, bad); i >= 0 {
			return strings.TrimSpace(s[:i]), query.Op(bad), strings.TrimSpace(s[i+len(bad):]), true
		}
	}
	return "", "", "", false
}

// threshold parses a threshold: a number, or a duration (2s, 150ms) for a
// statistic in milliseconds.
func threshold(s string, durations bool) (float64, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f, nil
	}
	if yamlnode.NumberOutOfRange(s) {
		return 0, fmt.Errorf("%s is a number out of range", yamlnode.Quote(s))
	}
	if durations {
		if d, err := time.ParseDuration(s); err == nil {
			return float64(d) / float64(time.Millisecond), nil
		}
		return 0, fmt.Errorf("%q is not a number or a duration", s)
	}
	return 0, fmt.Errorf("%q is not a number", s)
}

// when parses "stat op threshold".
func (p *alertParser) when(n *yaml.Node, s string, r *Rule) error {
	lhs, op, rhs, ok := splitCondition(s)
	if !ok || lhs == "" || rhs == "" {
		return p.errAt(n, "when", "want <statistic> <op> <threshold>, as \"p95 > 2000\", got %q", s)
	}
	r.Stat = Stat(lhs)
	if a, ok := statAliases[lhs]; ok {
		r.Stat = a
	}
	if !r.Stat.known() {
		return p.errAt(n, "when", "unknown statistic %q (known: %s)", lhs, statList())
	}
	r.Op = op
	if !op.IsOrdering() {
		return p.errAt(n, "when", "bad operator %q (known: <, <=, >, >=)", op)
	}
	kind, _, _ := SplitSeries(r.Metric)
	durations := kind == kindSpan || kind == kindStage || (kind == "" && r.Metric != "")
	switch r.Stat {
	case StatMean, StatMin, StatMax, StatP50, StatP95, StatP99:
	default:
		durations = false
	}
	t, err := threshold(rhs, durations)
	if err != nil {
		return p.errAt(n, "when", "threshold: %v", err)
	}
	r.Threshold = t
	return nil
}

// where parses "value op number".
func (p *alertParser) where(n *yaml.Node, s string) (*Condition, error) {
	lhs, op, rhs, ok := splitCondition(s)
	if !ok || rhs == "" {
		return nil, p.errAt(n, "where", "want value <op> <number>, as \"value < 0.5\", got %q", s)
	}
	if lhs != "value" {
		return nil, p.errAt(n, "where", "compares the series' value: write \"value %s %s\", not %q", op, rhs, lhs)
	}
	if !op.IsOrdering() {
		return nil, p.errAt(n, "where", "bad operator %q (known: <, <=, >, >=)", op)
	}
	v, err := threshold(rhs, false)
	if err != nil {
		return nil, p.errAt(n, "where", "%v", err)
	}
	return &Condition{Op: op, Value: v}, nil
}
