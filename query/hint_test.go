package query_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
)

func TestNearest(t *testing.T) {
	known := []string{"attr.name", "elapsed_ms", "finding.input_tokens", "finding.model", "finding.output_tokens",
		"gen_ai.request.model", "kind", "name", "run_id", "scope", "stage", "start_time", "status", "trace_id"}
	for field, want := range map[string]string{
		"run":                     "run_id",
		"runid":                   "run_id",
		"stages":                  "stage",
		"statsu":                  "status",
		"finding.tokens":          "finding.input_tokens",
		"finding.modle":           "finding.model",
		"finding.stage":           "", // a finding is compared with findings only
		"gen_ai.request.modle":    "gen_ai.request.model",
		"attr.run":                "run_id",
		"completely_unrelated_xy": "",
		"":                        "",
	} {
		assert.Equal(t, want, query.Nearest(field, known), field)
	}
}

func TestUnknownFields(t *testing.T) {
	r := memquery.New(stagetrace.Batch{Spans: []stagetrace.StageSpan{{
		RunID: "r1", Name: "chat", Stage: "chat",
		Attrs:    stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}},
		Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(10)}},
	}}})
	ctx := context.Background()

	hints, err := query.UnknownFields(ctx, r, query.MustParse(`run=r1 and stage=chat and finding.input_tokens>1 and finding.tokens>1 and gen_ai.request.model=x`))
	require.NoError(t, err)
	require.Len(t, hints, 2, "run and finding.tokens are carried by no span; the others are")
	assert.Equal(t, query.FieldHint{Field: "run", Suggest: "run_id"}, hints[0])
	assert.Equal(t, `no stored span has the attribute "run"; did you mean run_id?`, hints[0].String())
	assert.Equal(t, query.FieldHint{Field: "finding.tokens", Suggest: "finding.input_tokens"}, hints[1])
	assert.Equal(t, `no stored span has the finding "tokens"; did you mean finding.input_tokens?`, hints[1].String())

	hints, err = query.UnknownFields(ctx, r, query.MustParse(`zzzzzzzz exists`))
	require.NoError(t, err)
	require.Len(t, hints, 1)
	assert.Equal(t, `no stored span has the attribute "zzzzzzzz"`, hints[0].String(), "no suggestion when none is near")

	hints, err = query.UnknownFields(ctx, memquery.New(stagetrace.Batch{}), query.MustParse(`run_id=x`))
	require.NoError(t, err)
	assert.Empty(t, hints, "built-in fields are always known")
}
