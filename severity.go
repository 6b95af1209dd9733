package stagetrace

import "strings"

// LogEventName is the name of the TraceEvent a log record becomes. Its
// Severity and Body hold the record's severity and body.
const LogEventName = "log"

// Level is the severity of a log event as one of six levels, the
// origin's verbose, debug, info, warn, error and critical, ordered from
// least to most severe. The zero Level is unspecified and sorts first.
type Level uint8

// Levels, in order of severity.
const (
	LevelUnspecified Level = iota
	LevelVerbose
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelCritical
)

var levelNames = [...]string{
	LevelUnspecified: "unspecified", LevelVerbose: "verbose", LevelDebug: "debug",
	LevelInfo: "info", LevelWarn: "warn", LevelError: "error", LevelCritical: "critical",
}

// String returns the level's name: "verbose", "debug", "info", "warn",
// "error", "critical", or "unspecified".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return levelNames[LevelUnspecified]
}

// levelAliases are the other names ParseLevel reads: OpenTelemetry's
// short severity names (TRACE, FATAL) and the usual spellings of loggers.
var levelAliases = map[string]Level{
	"trace": LevelVerbose, "warning": LevelWarn, "fatal": LevelCritical,
	"err": LevelError, "crit": LevelCritical, "dbg": LevelDebug,
	"information": LevelInfo, "panic": LevelCritical,
}

// ParseLevel reads a level's name, in any case, and OpenTelemetry's
// severity names: TRACE (verbose), FATAL (critical), and with a trailing
// digit as in WARN2. It reports false for anything else.
func ParseLevel(s string) (Level, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n := len(s); n > 1 && '1' <= s[n-1] && s[n-1] <= '4' {
		s = s[:n-1] // ERROR3 is an error
	}
	for i, n := range levelNames {
		if n == s && Level(i) != LevelUnspecified {
			return Level(i), true
		}
	}
	l, ok := levelAliases[s]
	return l, ok
}

// Severity is the severity of a log record as OpenTelemetry gives it: the
// severity number (1 to 24: TRACE is 1 to 4, DEBUG 5 to 8, INFO 9 to 12,
// WARN 13 to 16, ERROR 17 to 20, FATAL 21 to 24; 0 is unspecified) and the
// severity text the logger wrote. The number is kept as given, in range
// or not.
type Severity struct {
	Number int64
	Text   string
}

// IsZero reports whether s has neither number nor text.
func (s Severity) IsZero() bool { return s.Number == 0 && s.Text == "" }

// Level returns the level of s. A number from 1 to 24 gives the level of
// its range; a number above 24 is critical, so that no record more severe
// than FATAL4 slips under an error filter. An unspecified or negative
// number leaves the text to decide (ParseLevel), and else the level is
// unspecified.
func (s Severity) Level() Level {
	switch n := s.Number; {
	case n > 24:
		return LevelCritical
	case n >= 1:
		return Level(1 + (n-1)/4)
	}
	if l, ok := ParseLevel(s.Text); ok {
		return l
	}
	return LevelUnspecified
}

// Number returns the lowest OpenTelemetry severity number of l (TRACE,
// DEBUG, INFO, WARN, ERROR, FATAL), and 0 for an unspecified level.
func (l Level) Number() int64 {
	if l == LevelUnspecified || int(l) >= len(levelNames) {
		return 0
	}
	return int64(l-1)*4 + 1
}
