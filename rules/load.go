package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/yamlnode"
)

// maxFileSize bounds a rules file: rules are written by people, so a file
// this large is a mistake, and reading it whole must stay cheap.
const maxFileSize = 4 << 20

// LoadFile reads and compiles the rules file at path (YAML or JSON).
// Errors name the file as given.
func LoadFile(path string) (*Set, error) {
	return LoadFileWithPresets(path)
}

// LoadFileWithPresets is LoadFile with presets added to those the file
// lists; a preset named in both counts once. Presets of unknown names are
// an error naming them.
func LoadFileWithPresets(path string, presets ...string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return load(f, path, presets)
}

// Load reads and compiles a rules file (YAML or JSON) from r; name is the
// file name errors give. Errors found in the file are *Error values with
// the line of the fault.
func Load(r io.Reader, name string) (*Set, error) { return load(r, name, nil) }

func load(r io.Reader, name string, presets []string) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: name, Err: fmt.Errorf("larger than %d bytes", maxFileSize)}
	}
	l := &loader{file: name}
	if err := l.parse(data); err != nil {
		return nil, err
	}
	for _, p := range presets {
		if !slices.Contains(l.cfg.Presets, p) {
			l.cfg.Presets = append(l.cfg.Presets, p)
		}
	}
	set, err := Compile(l.cfg)
	if err != nil {
		return nil, l.locate(err)
	}
	return set, nil
}

// loader parses a rules file into a Config, remembering where each field
// was so that errors Compile finds can name their line.
type loader struct {
	file string
	cfg  Config
	// rulePos[i][field] is the line of the field of rule i; [""] is the
	// line of the rule itself.
	rulePos   []map[string]int
	presetPos []int
	pricePos  map[string]int
	// rule and ruleName are the rule being parsed, for errors.
	rule     int
	ruleName string
}

func (l *loader) errAt(n *yaml.Node, field string, format string, args ...any) *Error {
	e := &Error{File: l.file, Rule: l.rule, RuleName: l.ruleName, Field: field, Err: fmt.Errorf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// locate fills in the file and line of an error from Compile.
func (l *loader) locate(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: %w", l.file, err)
	}
	e.File = l.file
	switch {
	case e.Rule > 0 && e.Rule <= len(l.rulePos):
		pos := l.rulePos[e.Rule-1]
		if line, ok := pos[e.Field]; ok {
			e.Line = line
		} else {
			e.Line = pos[""]
		}
	case strings.HasPrefix(e.Field, "presets["):
		i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Field, "presets["), "]"))
		if i >= 0 && i < len(l.presetPos) {
			e.Line = l.presetPos[i]
		}
	case strings.HasPrefix(e.Field, "prices"):
		for f := e.Field; f != ""; f = parentField(f) {
			if line, ok := l.pricePos[f]; ok {
				e.Line = line
				break
			}
		}
	}
	return e
}

// parentField returns the field path without its last part.
func parentField(f string) string {
	if i := strings.LastIndexAny(f, ".["); i > 0 {
		return f[:i]
	}
	return ""
}

func (l *loader) parse(data []byte) (err error) {
	// The YAML parser is third-party code fed untrusted input; a panic in
	// it must not take the program down with it.
	defer func() {
		if p := recover(); p != nil {
			err = &Error{File: l.file, Err: fmt.Errorf("yaml: %v", p)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file: no rules
		}
		return &Error{File: l.file, Err: err}
	}
	if err := yamlnode.CheckExpansion(&doc); err != nil {
		return &Error{File: l.file, Err: err}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return &Error{File: l.file, Err: err}
		}
		return l.errAt(&extra, "", "more than one YAML document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	root, err = l.resolve(root, "")
	if err != nil {
		return err
	}
	if yamlnode.IsNull(root) {
		return nil
	}
	return l.mapping(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "presets":
			return l.presets(v)
		case "rules":
			return l.rules(v)
		case "prices":
			return l.prices(v)
		case "alerts":
			// Alert rules share the file; package monitor/alert reads
			// them (alert.Load) and checks them itself.
			return nil
		}
		return l.unknown(k, "", key, "presets", "rules", "prices")
	})
}

func (l *loader) unknown(k *yaml.Node, field, key string, known ...string) error {
	return l.errAt(k, field, "unknown key %q (known: %s)", key, strings.Join(known, ", "))
}

// resolve follows aliases.
func (l *loader) resolve(n *yaml.Node, field string) (*yaml.Node, error) {
	n, ok := yamlnode.Deref(n)
	if !ok {
		return nil, l.errAt(n, field, "unresolvable alias")
	}
	return n, nil
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// mapping calls f for each key of the mapping n, in order, rejecting
// non-string and duplicate keys.
func (l *loader) mapping(n *yaml.Node, field string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return l.errAt(n, field, "want a mapping, got %s", yamlnode.TypeName(n))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return l.errAt(k, field, "want a string key, got %s", yamlnode.TypeName(k))
		}
		if seen[k.Value] {
			return l.errAt(k, join(field, k.Value), "key given twice")
		}
		seen[k.Value] = true
		v, err := l.resolve(n.Content[i+1], join(field, k.Value))
		if err != nil {
			return err
		}
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// sequence calls f for each element of the list n.
func (l *loader) sequence(n *yaml.Node, field string, f func(i int, v *yaml.Node) error) error {
	if n.Kind != yaml.SequenceNode {
		return l.errAt(n, field, "want a list, got %s", yamlnode.TypeName(n))
	}
	for i, e := range n.Content {
		e, err := l.resolve(e, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return err
		}
		if err := f(i, e); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", l.errAt(n, field, "want a string, got %s", yamlnode.TypeName(n))
	}
	if n.Value == "" {
		return "", l.errAt(n, field, "empty string")
	}
	return n.Value, nil
}

func (l *loader) boolean(n *yaml.Node, field string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, l.errAt(n, field, "want true or false, got %s", yamlnode.TypeName(n))
	}
	return b, nil
}

// scalarValue converts a YAML scalar, or a list of scalars of one type, to
// a Value.
func (l *loader) value(n *yaml.Node, field string) (stagetrace.Value, error) {
	if n.Kind == yaml.SequenceNode {
		return l.sliceValue(n, field)
	}
	if n.Kind != yaml.ScalarNode {
		return stagetrace.Value{}, l.errAt(n, field, "want a string, number or boolean, got %s", yamlnode.TypeName(n))
	}
	if yamlnode.OutOfRange(n) {
		// YAML reads it as a string, but whoever wrote it meant a number.
		return stagetrace.Value{}, l.errAt(n, field, "%s is a number out of range (quote it for a string)", yamlnode.Quote(n.Value))
	}
	switch n.ShortTag() {
	case "!!str":
		return stagetrace.StringValue(n.Value), nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return stagetrace.Value{}, l.errAt(n, field, "integer %s out of range", n.Value)
		}
		return stagetrace.Int64Value(i), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return stagetrace.Value{}, l.errAt(n, field, "bad number %s", n.Value)
		}
		return stagetrace.Float64Value(f), nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return stagetrace.Value{}, l.errAt(n, field, "bad boolean %s", n.Value)
		}
		return stagetrace.BoolValue(b), nil
	}
	return stagetrace.Value{}, l.errAt(n, field, "want a string, number or boolean, got %s", yamlnode.TypeName(n))
}

func (l *loader) sliceValue(n *yaml.Node, field string) (stagetrace.Value, error) {
	if len(n.Content) == 0 {
		return stagetrace.Value{}, l.errAt(n, field, "empty list")
	}
	var elems []stagetrace.Value
	err := l.sequence(n, field, func(i int, e *yaml.Node) error {
		if e.Kind != yaml.ScalarNode {
			return l.errAt(e, fmt.Sprintf("%s[%d]", field, i), "want a scalar, got %s", yamlnode.TypeName(e))
		}
		v, err := l.value(e, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return err
		}
		if len(elems) > 0 && v.Kind() != elems[0].Kind() {
			return l.errAt(e, fmt.Sprintf("%s[%d]", field, i), "list elements of different types")
		}
		elems = append(elems, v)
		return nil
	})
	if err != nil {
		return stagetrace.Value{}, err
	}
	switch elems[0].Kind() {
	case stagetrace.KindString:
		s := make([]string, len(elems))
		for i, e := range elems {
			s[i] = e.AsString()
		}
		return stagetrace.StringSliceValue(s), nil
	case stagetrace.KindInt64:
		s := make([]int64, len(elems))
		for i, e := range elems {
			s[i] = e.AsInt64()
		}
		return stagetrace.Int64SliceValue(s), nil
	case stagetrace.KindFloat64:
		s := make([]float64, len(elems))
		for i, e := range elems {
			s[i] = e.AsFloat64()
		}
		return stagetrace.Float64SliceValue(s), nil
	default:
		s := make([]bool, len(elems))
		for i, e := range elems {
			s[i] = e.AsBool()
		}
		return stagetrace.BoolSliceValue(s), nil
	}
}

func (l *loader) presets(n *yaml.Node) error {
	return l.sequence(n, "presets", func(i int, e *yaml.Node) error {
		s, err := l.str(e, fmt.Sprintf("presets[%d]", i))
		if err != nil {
			return err
		}
		l.cfg.Presets = append(l.cfg.Presets, s)
		l.presetPos = append(l.presetPos, e.Line)
		return nil
	})
}

func (l *loader) rules(n *yaml.Node) error {
	err := l.sequence(n, "rules", func(i int, e *yaml.Node) error {
		l.rule, l.ruleName = i+1, ruleNameOf(e)
		r, pos, err := l.parseRule(e)
		if err != nil {
			return err
		}
		l.cfg.Rules = append(l.cfg.Rules, r)
		l.rulePos = append(l.rulePos, pos)
		return nil
	})
	l.rule, l.ruleName = 0, ""
	return err
}

// ruleNameOf returns the name a rule node gives itself, for the errors of
// fields that come before it.
func ruleNameOf(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func (l *loader) parseRule(n *yaml.Node) (Rule, map[string]int, error) {
	var r Rule
	pos := map[string]int{"": n.Line}
	err := l.mapping(n, "", func(key string, k, v *yaml.Node) error {
		pos[key] = v.Line
		var err error
		switch key {
		case "name":
			r.Name, err = l.str(v, key)
		case "match":
			err = l.parseMatch(v, &r.Match, pos)
		case "stage":
			err = l.parseStage(v, &r)
		case "attributes":
			err = l.sequence(v, key, func(i int, e *yaml.Node) error {
				field := fmt.Sprintf("attributes[%d]", i)
				pos[field] = e.Line
				a, err := l.parseAction(e, field, "attribute")
				if err != nil {
					return err
				}
				r.Attributes = append(r.Attributes, AttributeAction{Attribute: a.target, From: a.from, Value: a.val})
				return nil
			})
		case "findings":
			err = l.sequence(v, key, func(i int, e *yaml.Node) error {
				field := fmt.Sprintf("findings[%d]", i)
				pos[field] = e.Line
				a, err := l.parseAction(e, field, "name")
				if err != nil {
					return err
				}
				r.Findings = append(r.Findings, FindingAction{Name: a.target, From: a.from, Value: a.val})
				return nil
			})
		default:
			err = l.unknown(k, "", key, "name", "match", "stage", "attributes", "findings")
		}
		return err
	})
	return r, pos, err
}

func (l *loader) parseMatch(n *yaml.Node, m *Match, pos map[string]int) error {
	return l.mapping(n, "match", func(key string, k, v *yaml.Node) error {
		field := "match." + key
		pos[field] = v.Line
		var err error
		switch key {
		case "span_name":
			m.SpanName, err = l.pattern(v, field)
		case "scope":
			m.Scope, err = l.pattern(v, field)
		case "span_kind":
			m.SpanKinds, err = l.kinds(v, field)
		case "attributes":
			err = l.sequence(v, field, func(i int, e *yaml.Node) error {
				f := fmt.Sprintf("%s[%d]", field, i)
				pos[f] = e.Line
				c, err := l.condition(e, f, pos)
				if err != nil {
					return err
				}
				m.Attributes = append(m.Attributes, c)
				return nil
			})
		default:
			err = l.unknown(k, "match", key, "span_name", "scope", "span_kind", "attributes")
		}
		return err
	})
}

// pattern reads a glob given as a string, or {glob: ...} or {regex: ...}.
func (l *loader) pattern(n *yaml.Node, field string) (Pattern, error) {
	if n.Kind == yaml.ScalarNode {
		g, err := l.str(n, field)
		return Pattern{Glob: g}, err
	}
	var p Pattern
	err := l.mapping(n, field, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "glob":
			p.Glob, err = l.str(v, field+".glob")
		case "regex":
			p.Regex, err = l.str(v, field+".regex")
		default:
			err = l.unknown(k, field, key, "glob", "regex")
		}
		return err
	})
	if err != nil {
		return p, err
	}
	if p.IsZero() || (p.Glob != "" && p.Regex != "") {
		return p, l.errAt(n, field, "give one of glob and regex")
	}
	return p, nil
}

func (l *loader) kinds(n *yaml.Node, field string) ([]stagetrace.SpanKind, error) {
	one := func(e *yaml.Node, f string) (stagetrace.SpanKind, error) {
		s, err := l.str(e, f)
		if err != nil {
			return 0, err
		}
		k, ok := stagetrace.ParseSpanKind(s)
		if !ok {
			return 0, l.errAt(e, f, "unknown span kind %q (known: internal, server, client, producer, consumer)", s)
		}
		return k, nil
	}
	if n.Kind != yaml.SequenceNode {
		k, err := one(n, field)
		return []stagetrace.SpanKind{k}, err
	}
	var out []stagetrace.SpanKind
	err := l.sequence(n, field, func(i int, e *yaml.Node) error {
		k, err := one(e, fmt.Sprintf("%s[%d]", field, i))
		out = append(out, k)
		return err
	})
	if err == nil && len(out) == 0 {
		err = l.errAt(n, field, "empty list")
	}
	return out, err
}

func (l *loader) condition(n *yaml.Node, field string, pos map[string]int) (AttributeCondition, error) {
	var c AttributeCondition
	ops := 0
	err := l.mapping(n, field, func(key string, k, v *yaml.Node) error {
		f := field + "." + key
		var err error
		switch key {
		case "key":
			c.Key, err = l.str(v, f)
			return err
		case "exists":
			var b bool
			b, err = l.boolean(v, f)
			c.Op = OpAbsent
			if b {
				c.Op = OpExists
			}
		case "equals":
			c.Op = OpEquals
			c.Value, err = l.value(v, f)
		case "matches":
			c.Op = OpMatches
			c.Pattern, err = l.str(v, f)
		case "glob":
			c.Op = OpGlob
			c.Pattern, err = l.str(v, f)
		default:
			return l.unknown(k, field, key, "key", "exists", "equals", "matches", "glob")
		}
		ops++
		// Compile reports a bad pattern against the condition: point it
		// at the pattern's line.
		pos[field] = v.Line
		return err
	})
	if err != nil {
		return c, err
	}
	switch {
	case c.Key == "":
		return c, l.errAt(n, field, "key: missing")
	case ops != 1:
		return c, l.errAt(n, field, "give one of exists, equals, matches and glob")
	}
	return c, nil
}

func (l *loader) parseStage(n *yaml.Node, r *Rule) error {
	if n.Kind == yaml.ScalarNode {
		var err error
		r.Stage, err = l.str(n, "stage")
		return err
	}
	err := l.mapping(n, "stage", func(key string, k, v *yaml.Node) error {
		if key != "from" {
			return l.unknown(k, "stage", key, "from")
		}
		var err error
		r.StageFrom, err = l.str(v, "stage.from")
		return err
	})
	if err == nil && r.StageFrom == "" {
		err = l.errAt(n, "stage", "from: missing")
	}
	return err
}

type action struct {
	target, from string
	val          stagetrace.Value
}

// parseAction reads {<targetKey>: ..., from: ...} or {<targetKey>: ...,
// value: ...}.
func (l *loader) parseAction(n *yaml.Node, field, targetKey string) (action, error) {
	var a action
	sources := 0
	err := l.mapping(n, field, func(key string, k, v *yaml.Node) error {
		f := field + "." + key
		var err error
		switch key {
		case targetKey:
			a.target, err = l.str(v, f)
		case "from":
			sources++
			a.from, err = l.str(v, f)
		case "value":
			sources++
			a.val, err = l.value(v, f)
		default:
			err = l.unknown(k, field, key, targetKey, "from", "value")
		}
		return err
	})
	if err != nil {
		return a, err
	}
	switch {
	case a.target == "":
		return a, l.errAt(n, field, "%s: missing", targetKey)
	case sources != 1:
		return a, l.errAt(n, field, "give one of from and value")
	}
	return a, nil
}

func (l *loader) prices(n *yaml.Node) error {
	l.pricePos = map[string]int{"prices": n.Line}
	p := &Prices{}
	err := l.mapping(n, "prices", func(key string, k, v *yaml.Node) error {
		l.pricePos["prices."+key] = v.Line
		switch key {
		case "currency":
			var err error
			p.Currency, err = l.str(v, "prices.currency")
			return err
		case "models":
			return l.mapping(v, "prices.models", func(model string, k, v *yaml.Node) error {
				field := "prices.models[" + model + "]"
				l.pricePos[field] = k.Line
				mp, err := l.modelPrice(v, field)
				mp.Model = model
				p.Models = append(p.Models, mp)
				return err
			})
		}
		return l.unknown(k, "prices", key, "currency", "models")
	})
	l.cfg.Prices = p
	return err
}

func (l *loader) modelPrice(n *yaml.Node, field string) (ModelPrice, error) {
	var mp ModelPrice
	var haveIn, haveOut bool
	err := l.mapping(n, field, func(key string, k, v *yaml.Node) error {
		f := field + "." + key
		l.pricePos[f] = v.Line
		var err error
		var x float64
		switch key {
		case "currency":
			mp.Currency, err = l.str(v, f)
			return err
		case "input", "output", "cache_read", "cache_creation":
			x, err = l.price(v, f)
		default:
			return l.unknown(k, field, key, "input", "output", "cache_read", "cache_creation", "currency")
		}
		switch key {
		case "input":
			mp.Input, haveIn = x, true
		case "output":
			mp.Output, haveOut = x, true
		case "cache_read":
			mp.CacheRead = &x
		case "cache_creation":
			mp.CacheCreation = &x
		}
		return err
	})
	if err != nil {
		return mp, err
	}
	if !haveIn || !haveOut {
		return mp, l.errAt(n, field, "give both input and output prices (per million tokens)")
	}
	return mp, nil
}

// price reads a price per million tokens from its decimal text, so that
// 0.075 is exactly 75000000 nanos rather than the nearest float's value.
func (l *loader) price(n *yaml.Node, field string) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		return 0, l.errAt(n, field, "want a price per million tokens, got %s", yamlnode.TypeName(n))
	}
	nanos, err := decimalNanos(n.Value)
	if err != nil {
		return 0, l.errAt(n, field, "%v", err)
	}
	return float64(nanos) / nanosPerUnit, nil
}

// decimalNanos parses a non-negative decimal number (exponent allowed)
// with at most nine decimals into billionths, exactly.
func decimalNanos(s string) (uint64, error) {
	// big.Rat would compute 10^e for any exponent e: bound it first.
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if e, err := strconv.Atoi(s[i+1:]); err != nil || e < -30 || e > 30 {
			return 0, fmt.Errorf("price %q is not a decimal number of sensible size", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || len(s) > 64 || strings.ContainsAny(s, "/_xXoObB") {
		return 0, fmt.Errorf("price %q is not a decimal number", s)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("price %s is negative", s)
	}
	if r.Cmp(big.NewRat(maxPrice, 1)) > 0 {
		return 0, fmt.Errorf("price %s per million tokens is too large", s)
	}
	r.Mul(r, big.NewRat(nanosPerUnit, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("price %s has more than 9 decimals", s)
	}
	return r.Num().Uint64(), nil
}
