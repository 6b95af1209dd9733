package summary

import (
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// MaxLogBody bounds how much of a log body a line for people shows, in
// runes; the JSON output keeps all of it.
const MaxLogBody = 200

// Severity returns a log event's level for people: its name, or "-" when
// unspecified.
func Severity(s stagetrace.Severity) string {
	if l := s.Level(); l != stagetrace.LevelUnspecified {
		return l.String()
	}
	return "-"
}

// ANSI colours of the levels, for terminals: errors red, warnings
// yellow, debug and verbose dim; info stays plain.
var levelColors = map[stagetrace.Level]string{
	stagetrace.LevelCritical: "\x1b[1;31m",
	stagetrace.LevelError:    "\x1b[31m",
	stagetrace.LevelWarn:     "\x1b[33m",
	stagetrace.LevelDebug:    "\x1b[2m",
	stagetrace.LevelVerbose:  "\x1b[2m",
}

const colorReset = "\x1b[0m"

// Colorize wraps text, which must already be safe, in the ANSI colour of
// level l; a level without a colour leaves it as it is.
func Colorize(l stagetrace.Level, text string) string {
	if c, ok := levelColors[l]; ok {
		return c + text + colorReset
	}
	return text
}

// LogLine returns a log event as one line for people: its level and
// stage, its body (cut at MaxLogBody runes) and its attributes, all made
// safe; with color, in its level's colour.
//
//   - warn in inference: rate limited  retry_ms=20
func LogLine(e *stagetrace.TraceEvent, color bool) string {
	var b strings.Builder
	b.WriteString("* ")
	b.WriteString(Severity(e.Severity))
	b.WriteString(" in ")
	b.WriteString(Safe(stageName(e.Stage)))
	b.WriteString(": ")
	b.WriteString(Safe(Cut(e.Body.String(), MaxLogBody)))
	var shown stagetrace.Attrs
	for _, kv := range e.Attrs {
		if kv.Key != string(attributes.LogScope) {
			shown = append(shown, kv)
		}
	}
	if len(shown) > 0 {
		b.WriteString("  ")
		b.WriteString(Findings(shown))
	}
	if color {
		return Colorize(e.Severity.Level(), b.String())
	}
	return b.String()
}

// Cut shortens s to at most n runes, the last one an ellipsis when it
// cut.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
