package rules_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/usage"
)

// TestLoadExample loads the full example of docs/rules.md, as YAML and
// as JSON, and checks what it does to spans.
func TestLoadExample(t *testing.T) {
	for _, file := range []string{"example.yaml", "example.json"} {
		t.Run(file, func(t *testing.T) {
			set, err := rules.LoadFile(filepath.Join("testdata", file))
			require.NoError(t, err)
			assert.Equal(t, []string{rules.PresetGenAI, rules.PresetOpenInference}, set.Presets())

			retrieve := set.End(&rules.SpanData{SpanName: "retrieve docs", SpanKind: stagetrace.SpanKindInternal,
				Attrs: stagetrace.Attrs{{Key: "app.retrieval.count", Value: i64(8)}}})
			assert.Equal(t, "retrieval", retrieve.Stage)
			assert.Equal(t, stagetrace.Attrs{{Key: "documents", Value: i64(8)}}, retrieve.Findings)

			assert.Equal(t, "rerank", set.Start(&rules.SpanData{SpanName: "reranker v2", ScopeName: "app/search"}).Stage)
			assert.Empty(t, set.Start(&rules.SpanData{SpanName: "rerankers", ScopeName: "app/search"}).Stage, `\b in the regex`)
			assert.Empty(t, set.Start(&rules.SpanData{SpanName: "rerank", ScopeName: "lib/search"}).Stage, "scope glob")

			chat := &rules.SpanData{SpanName: "chat gpt-4o", SpanKind: stagetrace.SpanKindClient, Attrs: stagetrace.Attrs{
				{Key: string(attributes.GenAIOperationName), Value: str("chat")},
				{Key: string(attributes.GenAIRequestModel), Value: str("gpt-4o")},
				{Key: "app.tenant.tier", Value: str("gold")},
				{Key: string(attributes.GenAIUsageInputTokens), Value: i64(100)},
			}}
			r := set.End(chat)
			assert.Equal(t, "chat", r.Stage, "no app.stage: the genai preset names the stage")
			assert.Equal(t, stagetrace.Attrs{
				{Key: "app.billing.class", Value: str("premium")},
				{Key: "app.model.family", Value: str("gpt-4o")},
			}, r.Attributes)
			assert.Equal(t, map[string]string{
				"tier": "string:gold", "reviewed": "bool:false", "input_tokens": "int64:100", "model": "string:gpt-4o",
			}, attrsMap(r.Findings))

			chat.Attrs = append(chat.Attrs, stagetrace.Attr{Key: "app.stage", Value: str("answer")})
			assert.Equal(t, "answer", set.End(chat).Stage, "stage: {from: app.stage}")

			// The price table: exact 2.50 USD per million input tokens.
			s := stagetrace.StageSpan{Name: "chat", Attrs: chat.Attrs}
			set.Apply(&s)
			c, ok, err := spanCost(&s)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, usage.Cost{Nanos: 250_000, Currency: "USD"}, c)
		})
	}
}

func TestLoadEquivalentJSONAndYAML(t *testing.T) {
	y, err := rules.LoadFile(filepath.Join("testdata", "example.yaml"))
	require.NoError(t, err)
	j, err := rules.LoadFile(filepath.Join("testdata", "example.json"))
	require.NoError(t, err)
	assert.Equal(t, y.Len(), j.Len())
	for _, f := range loadFixtures(t) {
		assert.Equal(t, y.End(f.endSpan()), j.End(f.endSpan()), f.file)
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "---\n", "null\n", "{}"} {
		set, err := rules.Load(strings.NewReader(in), "rules.yaml")
		require.NoError(t, err, "%q", in)
		assert.Zero(t, set.Len())
		assert.Empty(t, set.End(&rules.SpanData{SpanName: "x"}).Stage)
	}
}

func TestLoadFileErrors(t *testing.T) {
	_, err := rules.LoadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - stage: x\n    match: {span_name: {regex: \"(\"}}\n"), 0o600))
	_, err = rules.LoadFile(path)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), path+":3: rule 1: match.span_name: bad regex"), err.Error())
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // the whole message up to what the regexp package says
	}{
		{"unknown top key", "rule: []\n",
			`rules.yaml:1: unknown key "rule" (known: presets, rules, prices)`},
		{"top not a mapping", "- a\n",
			`rules.yaml:1: want a mapping, got a list`},
		{"rules not a list", "rules: {}\n",
			`rules.yaml:1: rules: want a list, got a mapping`},
		{"unknown rule key", "rules:\n  - name: chat\n    stages: x\n",
			`rules.yaml:3: rule 1 ("chat"): unknown key "stages" (known: name, match, stage, attributes, findings)`},
		{"unknown match key", "rules:\n  - stage: x\n    match:\n      spanname: chat\n",
			`rules.yaml:4: rule 1: match: unknown key "spanname" (known: span_name, scope, span_kind, attributes)`},
		{"bad regex", "rules:\n  - stage: a\n  - stage: b\n  - name: chat\n    stage: chat\n    match:\n      span_name: {regex: \"^chat (\"}\n",
			`rules.yaml:7: rule 3 ("chat"): match.span_name: bad regex: error parsing regexp: missing closing ): ` + "`^chat (`"},
		{"name after the fault", "rules:\n  - match: {span_name: {regex: \"(\"}}\n    stage: x\n    name: late\n",
			`rules.yaml:2: rule 1 ("late"): match.span_name: bad regex`},
		{"bad glob", "rules:\n  - stage: x\n    match: {scope: 'a\\'}\n",
			`rules.yaml:3: rule 1: match.scope: bad glob: "a\\" ends with an unpaired \`},
		{"glob and regex", "rules:\n  - stage: x\n    match: {span_name: {glob: a, regex: b}}\n",
			`rules.yaml:3: rule 1: match.span_name: give one of glob and regex`},
		{"pattern unknown key", "rules:\n  - stage: x\n    match: {span_name: {re: b}}\n",
			`rules.yaml:3: rule 1: match.span_name: unknown key "re" (known: glob, regex)`},
		{"wrong type stage", "rules:\n  - stage: 3\n",
			`rules.yaml:2: rule 1: stage: want a string, got an integer`},
		{"wrong type name", "rules:\n  - name: [a]\n    stage: x\n",
			`rules.yaml:2: rule 1: name: want a string, got a list`},
		{"empty string", "rules:\n  - stage: \"\"\n",
			`rules.yaml:2: rule 1: stage: empty string`},
		{"stage from missing", "rules:\n  - stage: {}\n",
			`rules.yaml:2: rule 1: stage: from: missing`},
		{"stage unknown key", "rules:\n  - stage: {value: x}\n",
			`rules.yaml:2: rule 1: stage: unknown key "value" (known: from)`},
		{"unknown span kind", "rules:\n  - stage: x\n    match: {span_kind: [client, sever]}\n",
			`rules.yaml:3: rule 1: match.span_kind[1]: unknown span kind "sever"`},
		{"empty kinds", "rules:\n  - stage: x\n    match: {span_kind: []}\n",
			`rules.yaml:3: rule 1: match.span_kind: empty list`},
		{"condition two tests", "rules:\n  - stage: x\n    match:\n      attributes:\n        - {key: a, exists: true, equals: 1}\n",
			`rules.yaml:5: rule 1: match.attributes[0]: give one of exists, equals, matches and glob`},
		{"condition no key", "rules:\n  - stage: x\n    match:\n      attributes:\n        - {exists: true}\n",
			`rules.yaml:5: rule 1: match.attributes[0]: key: missing`},
		{"condition exists type", "rules:\n  - stage: x\n    match:\n      attributes:\n        - {key: a, exists: yes please}\n",
			`rules.yaml:5: rule 1: match.attributes[0].exists: want true or false, got a string`},
		{"condition bad regex", "rules:\n  - stage: x\n    match:\n      attributes:\n        - key: a\n          matches: \"[\"\n",
			`rules.yaml:6: rule 1: match.attributes[0]: matches: bad regex: error parsing regexp`},
		{"condition equals mapping", "rules:\n  - stage: x\n    match:\n      attributes:\n        - {key: a, equals: {b: c}}\n",
			`rules.yaml:5: rule 1: match.attributes[0].equals: want a string, number or boolean, got a mapping`},
		{"equals mixed list", "rules:\n  - stage: x\n    match:\n      attributes:\n        - {key: a, equals: [1, b]}\n",
			`rules.yaml:5: rule 1: match.attributes[0].equals[1]: list elements of different types`},
		{"action two sources", "rules:\n  - attributes:\n      - {attribute: a, from: b, value: c}\n",
			`rules.yaml:3: rule 1: attributes[0]: give one of from and value`},
		{"action no target", "rules:\n  - findings:\n      - {from: b}\n",
			`rules.yaml:3: rule 1: findings[0]: name: missing`},
		{"action unknown key", "rules:\n  - findings:\n      - {name: a, form: b}\n",
			`rules.yaml:3: rule 1: findings[0]: unknown key "form" (known: name, from, value)`},
		{"reserved target", "rules:\n  - attributes:\n      - {attribute: run.id, from: session.id}\n",
			`rules.yaml:3: rule 1: attributes[0]: attribute: run.id places the span in a run`},
		{"no action", "rules:\n  - name: idle\n    match: {span_name: x}\n",
			`rules.yaml:2: rule 1 ("idle"): no action: give a stage, attributes or findings`},
		{"duplicate rule name", "rules:\n  - {name: a, stage: x}\n  - {name: b, stage: x}\n  - {name: a, stage: y}\n",
			`rules.yaml:4: rule 3 ("a"): name: duplicate rule name "a" (also rule 1)`},
		{"duplicate key", "rules:\n  - stage: x\n    stage: y\n",
			`rules.yaml:3: rule 1: stage: key given twice`},
		{"unknown preset", "presets: [genai, langsmith]\n",
			`rules.yaml:1: presets[1]: unknown preset "langsmith" (known: genai, openinference, openllmetry)`},
		{"preset twice", "presets:\n  - genai\n  - genai\n",
			`rules.yaml:3: presets[1]: preset "genai" listed twice`},
		{"preset type", "presets: genai\n",
			`rules.yaml:1: presets: want a list, got a string`},
		{"price currency mismatch", "prices:\n  currency: USD\n  models:\n    gpt-4o: {input: 2.5, output: 10}\n    mistral-large: {input: 2, output: 6, currency: EUR}\n",
			`rules.yaml:5: prices.models[mistral-large].currency: currency mismatch: EUR, but the table is in USD`},
		{"price bad currency", "prices:\n  currency: dollars\n",
			`rules.yaml:2: prices.currency: "dollars" is not an ISO 4217 code such as USD`},
		{"price too precise", "prices:\n  models:\n    m: {input: 0.0000000001, output: 1}\n",
			`rules.yaml:3: prices.models[m].input: price 0.0000000001 has more than 9 decimals`},
		{"price negative", "prices:\n  models:\n    m: {input: -1, output: 1}\n",
			`rules.yaml:3: prices.models[m].input: price -1 is negative`},
		{"price tiny exponent", "prices:\n  models:\n    m: {input: 1.0e-40, output: 1}\n",
			`rules.yaml:3: prices.models[m].input: price "1.0e-40" is not a decimal number of sensible size`},
		{"price string", "prices:\n  models:\n    m: {input: \"1\", output: 1}\n",
			`rules.yaml:3: prices.models[m].input: want a price per million tokens, got a string`},
		// YAML reads a number too large for a float as a string: say what it is.
		{"price out of range", "prices:\n  models:\n    m: {input: 1e400, output: 1}\n",
			`rules.yaml:3: prices.models[m].input: want a price per million tokens, got 1e400, a number out of range`},
		{"finding value out of range", "rules:\n  - findings:\n      - {name: f, value: 1e400}\n",
			`rules.yaml:3: rule 1: findings[0].value: 1e400 is a number out of range (quote it for a string)`},
		{"list element out of range", "rules:\n  - findings:\n      - {name: f, value: [1.5, -1e400]}\n",
			`rules.yaml:3: rule 1: findings[0].value[1]: -1e400 is a number out of range (quote it for a string)`},
		{"price missing output", "prices:\n  models:\n    m: {input: 1}\n",
			`rules.yaml:3: prices.models[m]: give both input and output prices (per million tokens)`},
		{"price bad glob", "prices:\n  models:\n    'm\\': {input: 1, output: 1}\n",
			`rules.yaml:3: prices.models[m\]: bad glob`},
		{"price unknown key", "prices:\n  models:\n    m: {input: 1, output: 1, cached: 1}\n",
			`rules.yaml:3: prices.models[m]: unknown key "cached"`},
		{"two documents", "rules: []\n---\nrules: []\n",
			`rules.yaml:2: more than one YAML document`},
		{"yaml syntax", "rules: [\n",
			`rules.yaml: yaml: line`},
		{"json syntax", `{"rules": [}`,
			`rules.yaml: yaml: `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rules.Load(strings.NewReader(c.in), "rules.yaml")
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), c.want), "got  %s\nwant %s...", err, c.want)
			var re *rules.Error
			require.True(t, errors.As(err, &re), "%T", err)
			assert.Equal(t, "rules.yaml", re.File)
		})
	}
}

func TestLoadAliases(t *testing.T) {
	in := `
kinds: &k [client]
`
	_, err := rules.Load(strings.NewReader(in), "r.yaml")
	assert.ErrorContains(t, err, `unknown key "kinds"`)

	in = `
rules:
  - name: a
    match: &m {span_kind: [client], span_name: "chat *"}
    stage: chat
  - name: b
    match: *m
    findings: [{name: x, value: 1}]
`
	set, err := rules.Load(strings.NewReader(in), "r.yaml")
	require.NoError(t, err)
	r := set.End(&rules.SpanData{SpanName: "chat x", SpanKind: stagetrace.SpanKindClient})
	assert.Equal(t, "chat", r.Stage)
	assert.Equal(t, stagetrace.Attrs{{Key: "x", Value: i64(1)}}, r.Findings)
}

func TestLoadValues(t *testing.T) {
	in := `
rules:
  - findings:
      - {name: s, value: text}
      - {name: i, value: 42}
      - {name: f, value: 0.5}
      - {name: b, value: true}
      - {name: ss, value: [a, b]}
      - {name: is, value: [1, 2]}
      - {name: fs, value: [0.5, 1.5]}
      - {name: bs, value: [true, false]}
      - {name: q, value: "42"}
      - {name: qbig, value: "1e400"}
`
	set, err := rules.Load(strings.NewReader(in), "r.yaml")
	require.NoError(t, err)
	r := set.End(&rules.SpanData{})
	assert.Equal(t, map[string]string{
		"s": "string:text", "i": "int64:42", "f": "float64:0.5", "b": "bool:true",
		"ss": `string[]:["a","b"]`, "is": "int64[]:[1,2]", "fs": "float64[]:[0.5,1.5]", "bs": "bool[]:[true,false]",
		"q": "string:42", "qbig": "string:1e400",
	}, attrsMap(r.Findings))
}
