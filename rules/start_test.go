package rules_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// assertStartStage checks that StartStage gives span the stage Start does,
// whichever way its attributes are split between first and then.
func assertStartStage(t *testing.T, set *rules.Set, span *rules.SpanData) {
	t.Helper()
	require.True(t, set.StartStageOnly())
	want := set.Start(span).Stage
	all := kvs(span.Attrs)
	for i := 0; i <= len(all); i++ {
		got := set.StartStage(span.SpanName, span.SpanKind, all[:i], all[i:])
		assert.Equal(t, want, got, "attributes split at %d", i)
	}
}

func TestStartStageOnly(t *testing.T) {
	cases := []struct {
		name string
		c    rules.Config
		want bool
	}{
		{"genai preset", rules.Config{Presets: []string{rules.PresetGenAI}}, true},
		{"openinference preset: a stage function", rules.Config{Presets: []string{rules.PresetOpenInference}}, false},
		{"openllmetry preset: a stage function", rules.Config{Presets: []string{rules.PresetOpenLLMetry}}, false},
		{"literal stage", rules.Config{Rules: []rules.Rule{{Match: rules.Match{SpanName: rules.Glob("chat *")}, Stage: "chat"}}}, true},
		{"findings only: nothing at start", rules.Config{Rules: []rules.Rule{{Findings: []rules.FindingAction{{Name: "f", From: "k"}}}}}, false},
		{"attribute action", rules.Config{Rules: []rules.Rule{{Stage: "s", Attributes: []rules.AttributeAction{{Attribute: "a", From: "k"}}}}}, false},
		{"scope match", rules.Config{Rules: []rules.Rule{{Match: rules.Match{Scope: rules.Glob("app/*")}, Stage: "s"}}}, false},
		{"match function", rules.Config{Rules: []rules.Rule{{Match: rules.Match{Func: func(rules.Span) bool { return true }}, Stage: "s"}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err := rules.Compile(c.c)
			require.NoError(t, err)
			assert.Equal(t, c.want, set.StartStageOnly())
		})
	}
	var none *rules.Set
	assert.False(t, none.StartStageOnly())
	assert.Empty(t, none.StartStage("chat", stagetrace.SpanKindClient, nil, nil))
}

// TestStartStageConditions runs the conditions of TestMatchConditions
// that StartStage can decide through StartStage and Start on the same
// span.
func TestStartStageConditions(t *testing.T) {
	span := conditionSpan()
	for _, c := range conditionCases {
		if c.m.Scope != (rules.Pattern{}) || c.m.Func != nil {
			continue // not decided by StartStage
		}
		t.Run(c.name, func(t *testing.T) {
			// A stage from an attribute, then a literal one for spans the
			// first rule does not match.
			set, err := rules.New(
				rules.Rule{Match: c.m, StageFrom: string(attributes.GenAIOperationName)},
				rules.Rule{Match: c.m, Stage: "hit"},
				rules.Rule{Stage: "fallback"},
			)
			require.NoError(t, err)
			assertStartStage(t, set, span)
			assert.Equal(t, c.want, set.Start(span).Stage == "chat", "the case holds and fails as in TestMatchConditions")
		})
	}
}

// TestStartStageFromAttribute checks what counts as a stage attribute: a
// non-empty string, the last value of its key.
func TestStartStageFromAttribute(t *testing.T) {
	set, err := rules.New(
		rules.Rule{StageFrom: "app.stage"},
		rules.Rule{StageFrom: "app.phase"},
	)
	require.NoError(t, err)
	cases := []struct {
		name        string
		first, then []attribute.KeyValue
		want        string
	}{
		{"none", nil, nil, ""},
		{"first rule", nil, []attribute.KeyValue{attribute.String("app.stage", "a"), attribute.String("app.phase", "b")}, "a"},
		{"empty string: the next rule", nil, []attribute.KeyValue{attribute.String("app.stage", ""), attribute.String("app.phase", "b")}, "b"},
		{"not a string: the next rule", nil, []attribute.KeyValue{attribute.Int("app.stage", 1), attribute.String("app.phase", "b")}, "b"},
		{"the later part wins", []attribute.KeyValue{attribute.String("app.stage", "a")}, []attribute.KeyValue{attribute.String("app.stage", "c")}, "c"},
		{"the last value wins", []attribute.KeyValue{attribute.String("app.stage", "a"), attribute.String("app.stage", "d")}, nil, "d"},
		{"a later empty value hides", []attribute.KeyValue{attribute.String("app.stage", "a")}, []attribute.KeyValue{attribute.String("app.stage", "")}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, set.StartStage("s", stagetrace.SpanKindInternal, c.first, c.then))
		})
	}
}

// TestStartStageManyLookups covers a Set that reads enough keys at start
// to use a presence mask.
func TestStartStageManyLookups(t *testing.T) {
	var rs []rules.Rule
	for i := range 12 {
		rs = append(rs, rules.Rule{
			Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists(fmt.Sprintf("k%d", i))}},
			Stage: fmt.Sprintf("s%d", i),
		})
	}
	set, err := rules.New(rs...)
	require.NoError(t, err)
	for _, span := range []*rules.SpanData{
		{SpanName: "x"},
		{SpanName: "x", Attrs: stagetrace.Attrs{{Key: "k7", Value: i64(1)}, {Key: "k11", Value: i64(1)}}},
		{SpanName: "x", Attrs: stagetrace.Attrs{{Key: "other", Value: i64(1)}, {Key: "k11", Value: i64(1)}}},
	} {
		assertStartStage(t, set, span)
	}
	assert.Equal(t, "s7", set.StartStage("x", 0, nil, []attribute.KeyValue{attribute.Int("k11", 1), attribute.Int("k7", 1)}))
}

// TestStartStageAllocates nothing on the GenAI preset's spans: it runs in
// a sampler, on every span.
func TestStartStageAllocates(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	require.NoError(t, err)
	attrs := []attribute.KeyValue{attribute.String("url.path", "/v1"), attributes.GenAIOperationName.String("chat")}
	var stage string
	n := testing.AllocsPerRun(100, func() {
		stage = set.StartStage("chat m-1", stagetrace.SpanKindClient, nil, attrs)
	})
	assert.Equal(t, "chat", stage)
	assert.Zero(t, n)
}
