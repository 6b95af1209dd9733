package rules_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/rules"
)

// fixture is a span as an instrumentation records it, read from
// testdata/spans/*.json: the attributes it has at start, those set before it
// ends, and what the presets should derive from it.
type fixture struct {
	file        string
	Description string
	Name        string
	Kind        stagetrace.SpanKind
	Scope       string
	Start       stagetrace.Attrs
	End         stagetrace.Attrs
	Expect      []expectation
}

type expectation struct {
	Presets    []string
	StartStage string
	Stage      string
	Findings   stagetrace.Attrs
}

// startSpan is the span as rules see it at start.
func (f *fixture) startSpan() *rules.SpanData {
	return &rules.SpanData{SpanName: f.Name, ScopeName: f.Scope, SpanKind: f.Kind, Attrs: f.Start}
}

// endSpan is the span as rules see it once ended.
func (f *fixture) endSpan() *rules.SpanData {
	all := append(append(stagetrace.Attrs{}, f.Start...), f.End...)
	return &rules.SpanData{SpanName: f.Name, ScopeName: f.Scope, SpanKind: f.Kind, Attrs: all}
}

func loadFixtures(t testing.TB) []*fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "spans", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var out []*fixture
	for _, p := range paths {
		out = append(out, loadFixture(t, p))
	}
	return out
}

func loadFixture(t testing.TB, path string) *fixture {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var raw struct {
		Description string
		Name        string
		Kind        string
		Scope       string
		Start       json.RawMessage
		End         json.RawMessage
		Expect      []struct {
			Presets    []string
			StartStage string `json:"start_stage"`
			Stage      string
			Findings   json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(data, &raw), path)
	kind, ok := stagetrace.ParseSpanKind(raw.Kind)
	require.True(t, ok, "%s: kind %q", path, raw.Kind)
	f := &fixture{file: filepath.Base(path), Description: raw.Description, Name: raw.Name, Kind: kind, Scope: raw.Scope}
	f.Start = orderedAttrs(t, raw.Start)
	f.End = orderedAttrs(t, raw.End)
	for _, e := range raw.Expect {
		f.Expect = append(f.Expect, expectation{
			Presets: e.Presets, StartStage: e.StartStage, Stage: e.Stage,
			Findings: orderedAttrs(t, e.Findings),
		})
	}
	return f
}

// orderedAttrs decodes a JSON object into attributes in file order:
// integers as int64, other numbers as float64, arrays as typed slices.
func orderedAttrs(t testing.TB, raw json.RawMessage) stagetrace.Attrs {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out stagetrace.Attrs
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v any
		require.NoError(t, dec.Decode(&v))
		out = append(out, stagetrace.Attr{Key: k.(string), Value: jsonValue(t, v)})
	}
	return out
}

func jsonValue(t testing.TB, v any) stagetrace.Value {
	switch x := v.(type) {
	case string:
		return stagetrace.StringValue(x)
	case bool:
		return stagetrace.BoolValue(x)
	case json.Number:
		if !strings.ContainsAny(x.String(), ".eE") {
			n, err := x.Int64()
			require.NoError(t, err)
			return stagetrace.Int64Value(n)
		}
		f, err := x.Float64()
		require.NoError(t, err)
		return stagetrace.Float64Value(f)
	case []any:
		require.NotEmpty(t, x)
		switch x[0].(type) {
		case string:
			s := make([]string, len(x))
			for i, e := range x {
				s[i] = e.(string)
			}
			return stagetrace.StringSliceValue(s)
		case json.Number:
			s := make([]int64, len(x))
			for i, e := range x {
				n, err := e.(json.Number).Int64()
				require.NoError(t, err)
				s[i] = n
			}
			return stagetrace.Int64SliceValue(s)
		}
	}
	t.Fatalf("fixture value %#v has no attribute type", v)
	return stagetrace.Value{}
}

// attrsMap renders attributes for comparisons that ignore order, each
// value with its kind so that int64 812 and float64 812 differ.
func attrsMap(a stagetrace.Attrs) map[string]string {
	m := make(map[string]string, len(a))
	for _, kv := range a {
		m[kv.Key] = fmt.Sprintf("%s:%s", kv.Value.Kind(), kv.Value.String())
	}
	return m
}
