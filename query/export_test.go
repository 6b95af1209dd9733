package query_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

func TestNeutralCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"chat", "chat"},
		{`=HYPERLINK("http://evil","click")`, `'=HYPERLINK("http://evil","click")`},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"-0.5", "-0.5"},
		{"+12", "+12"},
		{"-Inf", "'-Inf"},
		{"a=b", "a=b"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, query.NeutralCell(c.in), "%q", c.in)
	}
}

func TestCSVExportNeutralisesFormulas(t *testing.T) {
	spans := []stagetrace.StageSpan{{
		RunID: "=HYPERLINK(\"http://evil\")", Name: "@SUM(1+1)",
		Findings: stagetrace.Attrs{{Key: "note", Value: stagetrace.StringValue("=1+1")}, {Key: "delta", Value: stagetrace.Float64Value(-0.5)}},
	}}
	read := func(format string) map[string]string {
		var buf bytes.Buffer
		_, err := query.WriteSpans(&buf, spans, format, nil)
		require.NoError(t, err)
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 2)
		row := map[string]string{}
		for i, h := range rows[0] {
			row[h] = rows[1][i]
		}
		return row
	}
	row := read(query.FormatCSV)
	assert.Equal(t, `'=HYPERLINK("http://evil")`, row["run_id"])
	assert.Equal(t, "'@SUM(1+1)", row["name"])
	assert.Equal(t, "'=1+1", row["finding.note"])
	assert.Equal(t, "-0.5", row["finding.delta"], "numbers stay numbers")

	raw := read(query.FormatCSVRaw)
	assert.Equal(t, `=HYPERLINK("http://evil")`, raw["run_id"])
	assert.Equal(t, "=1+1", raw["finding.note"])
}
