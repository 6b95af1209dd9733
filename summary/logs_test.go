package summary

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

func TestLogLine(t *testing.T) {
	e := stagetrace.TraceEvent{
		Name: stagetrace.LogEventName, Stage: "inference",
		Severity: stagetrace.Severity{Number: 17},
		Body:     stagetrace.StringValue("boom\x1b[2J\n" + strings.Repeat("x", 500)),
		Attrs: stagetrace.Attrs{
			{Key: "attempt", Value: stagetrace.IntValue(2)},
			{Key: string(attributes.LogScope), Value: stagetrace.StringValue("chatbot")},
		},
	}
	line := LogLine(&e, false)
	assert.True(t, strings.HasPrefix(line, `* error in inference: boom\x1b[2J\nxxx`), line)
	assert.True(t, strings.HasSuffix(line, "…  attempt=2"), line)
	assert.NotContains(t, line, "chatbot", "the scope is noise in a run's timeline")
	assert.Less(t, len([]rune(line)), MaxLogBody+40)
	assert.Equal(t, "\x1b[31m"+line+"\x1b[0m", LogLine(&e, true))

	none := stagetrace.TraceEvent{Name: stagetrace.LogEventName}
	assert.Equal(t, "* - in (no stage): ", LogLine(&none, true), "no colour for no level")
	assert.Equal(t, "ab", Cut("ab", 2))
	assert.Equal(t, "a…", Cut("abc", 2))
	assert.Equal(t, "é…", Cut("éèà", 2))
}
