package rules

import (
	"strconv"
	"strings"
)

// Error is a fault in rules: in a rules file (File and Line set), or in
// rules given to New or Compile. Its text reads
//
//	rules.yaml:12: rule 3 ("chat"): match.span_name: bad regex: ...
//
// leaving out the parts that are unknown.
type Error struct {
	File     string // rules file name, "" for rules built in Go
	Line     int    // 1-based line in File, 0 when unknown
	Rule     int    // 1-based position of the rule, 0 when not in a rule
	RuleName string // the rule's name, "" when it has none
	Field    string // path of the field at fault: "match.span_name"
	Err      error  // what is wrong
}

// Error returns the message described on the type.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Rule > 0 {
		b.WriteString("rule ")
		b.WriteString(strconv.Itoa(e.Rule))
		if e.RuleName != "" {
			b.WriteString(" (")
			b.WriteString(strconv.Quote(e.RuleName))
			b.WriteByte(')')
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func fieldErr(field string, err error) *Error { return &Error{Field: field, Err: err} }

func ruleErr(i int, name, field string, err error) *Error {
	return &Error{Rule: i + 1, RuleName: name, Field: field, Err: err}
}
