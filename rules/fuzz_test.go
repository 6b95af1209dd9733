package rules_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/rules"
)

// FuzzLoad feeds the loader arbitrary files: it must never panic, every
// failure must be an *Error naming the file, and a Set it returns must
// evaluate and apply without panicking.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"example.yaml", "example.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(string(data))
	}
	for _, s := range []string{
		"", "presets: [genai]", "rules: [{stage: x}]", "rules:\n  - match: {span_name: {regex: \"(\"}}\n",
		"prices: {models: {m: {input: 1e3, output: 0.5}}}", "a: &a [*a]", "rules: [{match: *x}]",
		"rules:\n  - match: &m {span_kind: client}\n    stage: a\n  - match: *m\n    stage: b\n",
		"{\"rules\": [{\"stage\": {\"from\": \"k\"}, \"match\": {\"attributes\": [{\"key\": \"k\", \"equals\": [1, 2]}]}}]}",
	} {
		f.Add(s)
	}
	span := &rules.SpanData{SpanName: "chat gpt-4o", ScopeName: "app/x", SpanKind: stagetrace.SpanKindClient, Attrs: stagetrace.Attrs{
		{Key: "k", Value: stagetrace.Int64Value(1)}, {Key: "app.stage", Value: stagetrace.StringValue("s")},
	}}
	f.Fuzz(func(t *testing.T, in string) {
		set, err := rules.Load(strings.NewReader(in), "fuzz.yaml")
		if err != nil {
			var re *rules.Error
			require.True(t, errors.As(err, &re), "%T: %v", err, err)
			require.True(t, strings.HasPrefix(err.Error(), "fuzz.yaml"), err.Error())
			require.Nil(t, set)
			return
		}
		require.NotNil(t, set)
		start := set.Start(span)
		if set.StartStageOnly() {
			require.Equal(t, start.Stage, set.StartStage(span.SpanName, span.SpanKind, nil, kvs(span.Attrs)))
		}
		set.End(span)
		s := &stagetrace.StageSpan{Name: span.SpanName, Attrs: span.Attrs}
		set.Apply(s)
	})
}
