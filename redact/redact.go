package redact

import (
	"errors"
	"fmt"
	"sync"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// DefaultMask replaces a masked value, or the masked part of a string,
// when Config.Mask is empty.
const DefaultMask = "[REDACTED]"

// maxCachedResources bounds the cache of redacted resources. An exporter
// has one resource per provider, so the cache stays tiny unless resources
// are made per span upstream; then it is cleared and refilled.
const maxCachedResources = 256

// Config says what a [Redactor] masks.
type Config struct {
	// Allow lists the attribute keys whose values are kept; the value of
	// every other span and event attribute is replaced by the mask. Empty
	// means every key is allowed. Patterns are globs: '*' matches any
	// characters, dots included ("http.request.header.*", "*.api_key").
	// Kept values still go through the value patterns. The keys of
	// stagetrace's metric events (metric.name, metric.value, metric.unit,
	// metric.source) and bookkeeping (run.stage_inherited,
	// stagetrace.redacted_count) are always allowed.
	Allow []string
	// Deny lists the attribute keys whose values are always replaced by
	// the mask, in spans, events and resources, whatever their type. It
	// wins over Allow. Inside map values, keys are matched as
	// "<key>.<map key>", so "*.api_key" finds {"llm": {"api_key": ...}}.
	Deny []string
	// Presets names built-in value patterns: "api_keys", "bearer_tokens",
	// "emails", "card_numbers" (see the Preset constants).
	Presets []string
	// Patterns are more regular expressions (RE2 syntax); each match in a
	// string value is replaced by the mask.
	Patterns []string
	// Mask replaces what is redacted; DefaultMask when empty.
	Mask string
	// SkipResources leaves resource attributes alone. By default they get
	// Deny and the value patterns, but not Allow: an allow list written
	// for span attributes would mask service.name and the like.
	SkipResources bool
}

// Redactor masks secrets and personal data in batches before sinks see
// them. It is safe for concurrent use. Create one with [New].
type Redactor struct {
	allow, deny   keySet
	matchers      []matcher
	mask          string
	maskValue     stagetrace.Value
	skipResources bool

	mu        sync.Mutex
	resources map[*stagetrace.Resource]redactedResource
}

type redactedResource struct {
	res *stagetrace.Resource
	n   int
}

// New compiles cfg into a Redactor. It fails on an empty key pattern, an
// unknown preset or an invalid regular expression.
func New(cfg Config) (*Redactor, error) {
	var errs []error
	allow, err := compileKeySet(cfg.Allow)
	if err != nil {
		errs = append(errs, fmt.Errorf("allow: %w", err))
	}
	deny, err := compileKeySet(cfg.Deny)
	if err != nil {
		errs = append(errs, fmt.Errorf("deny: %w", err))
	}
	r := &Redactor{allow: allow, deny: deny, mask: cfg.Mask, skipResources: cfg.SkipResources}
	if r.mask == "" {
		r.mask = DefaultMask
	}
	r.maskValue = stagetrace.StringValue(r.mask)
	seen := map[string]bool{}
	for _, name := range cfg.Presets {
		if seen[name] {
			continue
		}
		seen[name] = true
		m, err := presetMatcher(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.matchers = append(r.matchers, m)
	}
	for _, expr := range cfg.Patterns {
		m, err := patternMatcher(expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("pattern %q: %w", expr, err))
			continue
		}
		r.matchers = append(r.matchers, m)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("redact: %w", errors.Join(errs...))
	}
	return r, nil
}

// RedactString returns s with every match of the value patterns replaced
// by the mask, and whether anything was replaced.
func (r *Redactor) RedactString(s string) (string, bool) {
	changed := false
	for _, m := range r.matchers {
		if !m.maybe(s) {
			continue
		}
		if out, ok := m.replace(s, r.mask); ok {
			s, changed = out, true
		}
	}
	return s, changed
}

// Batch redacts b in place and returns the number of values it masked.
// It masks the values of span and event attributes by key (Allow, Deny)
// and the secrets the value patterns find in strings: string values,
// strings inside slices and maps, string findings, span status messages,
// and resource attributes unless Config.SkipResources says otherwise
// (keys of map values are matched as "<key>.<map key>"). A span, event or
// resource it changed gets the attribute stagetrace.redacted_count, the
// number of values masked in it.
//
// Batch never writes to an attribute slice, value or resource it was
// given, since other consumers may share them: it gives each changed
// record new ones (copy on write). Records without secrets cost no
// allocation.
func (r *Redactor) Batch(b *stagetrace.Batch) (redacted int) {
	// Each distinct resource is counted once per call. Batches nearly
	// always have one resource: remember the last, without a map.
	var lastIn *stagetrace.Resource
	var lastOut redactedResource
	var seen map[*stagetrace.Resource]redactedResource
	for i := range b.Spans {
		sp := &b.Spans[i]
		attrs, n := r.attrs(sp.Attrs, modeAllowDeny, "")
		findings, nf := r.attrs(sp.Findings, modeValues, "")
		msg, changed := r.RedactString(sp.StatusMessage)
		if changed {
			nf++
		}
		if n+nf > 0 {
			sp.Attrs = withCount(attrs, n+nf, n > 0)
			sp.Findings = findings
			sp.StatusMessage = msg
			redacted += n + nf
		}
		if in := sp.Resource; in != nil && !r.skipResources {
			if in != lastIn {
				rr, ok := seen[in]
				if !ok {
					rr = r.resource(in)
					redacted += rr.n
					if lastIn != nil {
						if seen == nil {
							seen = map[*stagetrace.Resource]redactedResource{lastIn: lastOut}
						}
						seen[in] = rr
					}
				}
				lastIn, lastOut = in, rr
			}
			sp.Resource = lastOut.res
		}
	}
	for i := range b.Events {
		ev := &b.Events[i]
		attrs, n := r.attrs(ev.Attrs, modeAllowDeny, "")
		// A log event's body is free text, as a status message is: the
		// value patterns apply, and the Deny keys inside a map body.
		body, nb := r.value(ev.Body, modeDeny, "")
		if n+nb > 0 {
			ev.Attrs = withCount(attrs, n+nb, n > 0)
			ev.Body = body
			redacted += n + nb
		}
	}
	return redacted
}

// resource returns the redacted form of res, from the cache when res was
// redacted before. Resources are immutable, so the answer never changes.
func (r *Redactor) resource(res *stagetrace.Resource) redactedResource {
	r.mu.Lock()
	rr, ok := r.resources[res]
	r.mu.Unlock()
	if ok {
		return rr
	}
	rr = redactedResource{res: res}
	if attrs, n := r.attrs(res.Attrs, modeDeny, ""); n > 0 {
		rr = redactedResource{res: &stagetrace.Resource{Attrs: withCount(attrs, n, true)}, n: n}
	}
	r.mu.Lock()
	if r.resources == nil || len(r.resources) >= maxCachedResources {
		r.resources = make(map[*stagetrace.Resource]redactedResource)
	}
	r.resources[res] = rr
	// The redacted form maps to itself, so a batch redacted twice is
	// not counted twice.
	r.resources[rr.res] = redactedResource{res: rr.res}
	r.mu.Unlock()
	return rr
}

// keyMode says which key lists apply to a set of attributes.
type keyMode uint8

const (
	modeValues    keyMode = iota // value patterns only (findings)
	modeDeny                     // Deny and value patterns (resources)
	modeAllowDeny                // Allow, Deny and value patterns (spans, events)
)

// structural are keys stagetrace itself writes whose values carry no
// user data: an allow list never masks them, so that metric events and
// bookkeeping keep working. Deny still applies.
var structural = map[string]bool{
	string(attributes.MetricName):     true,
	string(attributes.MetricValue):    true,
	string(attributes.MetricUnit):     true,
	string(attributes.MetricSource):   true,
	string(attributes.StageInherited): true,
}

// masked reports whether the value of key is replaced whole.
func (r *Redactor) masked(key string, mode keyMode) bool {
	if mode == modeValues || key == string(attributes.RedactedCount) {
		return false
	}
	if r.deny.match(key) {
		return true
	}
	return mode == modeAllowDeny && !r.allow.empty() && !structural[key] && !r.allow.match(key)
}

// attrs returns attrs redacted and the number of values masked. When
// nothing is masked it returns attrs itself; otherwise a new slice, with
// room for the count attribute. prefix is the key path of a map value.
func (r *Redactor) attrs(attrs stagetrace.Attrs, mode keyMode, prefix string) (stagetrace.Attrs, int) {
	var out stagetrace.Attrs
	total := 0
	for i := range attrs {
		key := attrs[i].Key
		if prefix != "" {
			key = prefix + "." + key
		}
		var v stagetrace.Value
		var n int
		if r.masked(key, mode) {
			v, n = r.maskValue, 1
		} else {
			v, n = r.value(attrs[i].Value, mode, key)
		}
		if n == 0 {
			continue
		}
		if out == nil {
			out = make(stagetrace.Attrs, len(attrs), len(attrs)+1)
			copy(out, attrs)
		}
		out[i].Value = v
		total += n
	}
	if out == nil {
		return attrs, 0
	}
	return out, total
}

// value returns v redacted and the number of values masked in it.
func (r *Redactor) value(v stagetrace.Value, mode keyMode, key string) (stagetrace.Value, int) {
	switch v.Kind() {
	case stagetrace.KindString:
		if s, ok := r.RedactString(v.AsString()); ok {
			return stagetrace.StringValue(s), 1
		}
	case stagetrace.KindStringSlice:
		in := v.AsStringSlice()
		var out []string
		n := 0
		for i, s := range in {
			if rs, ok := r.RedactString(s); ok {
				if out == nil {
					out = append([]string(nil), in...)
				}
				out[i] = rs
				n++
			}
		}
		if n > 0 {
			return stagetrace.StringSliceValue(out), n
		}
	case stagetrace.KindSlice:
		in := v.AsSlice()
		var out []stagetrace.Value
		total := 0
		for i, e := range in {
			if re, n := r.value(e, mode, key); n > 0 {
				if out == nil {
					out = append([]stagetrace.Value(nil), in...)
				}
				out[i] = re
				total += n
			}
		}
		if total > 0 {
			return stagetrace.SliceValue(out...), total
		}
	case stagetrace.KindMap:
		// Allow was decided for the map as a whole, by its own key; the
		// keys inside still meet Deny ("*.api_key") and the patterns.
		inner := mode
		if inner == modeAllowDeny {
			inner = modeDeny
		}
		if m, n := r.attrs(v.AsMap(), inner, key); n > 0 {
			return stagetrace.MapValue(m...), n
		}
	}
	return v, 0
}

// withCount returns attrs with stagetrace.redacted_count set to n, added
// to any count already there. owned says attrs is a copy Batch made, which
// may be written; otherwise a new slice is made.
func withCount(attrs stagetrace.Attrs, n int, owned bool) stagetrace.Attrs {
	key := string(attributes.RedactedCount)
	if !owned {
		attrs = append(make(stagetrace.Attrs, 0, len(attrs)+1), attrs...)
	}
	for i := range attrs {
		if attrs[i].Key == key {
			attrs[i].Value = stagetrace.Int64Value(attrs[i].Value.AsInt64() + int64(n))
			return attrs
		}
	}
	return append(attrs, stagetrace.Attr{Key: key, Value: stagetrace.IntValue(n)})
}
