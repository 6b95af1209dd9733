package query_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

func logEvent(run string, number int64, body stagetrace.Value, sec int64) stagetrace.TraceEvent {
	return stagetrace.TraceEvent{
		Name: stagetrace.LogEventName, RunID: run, Time: time.Unix(sec, 0),
		Severity: stagetrace.Severity{Number: number}, Body: body,
		Attrs: stagetrace.Attrs{{Key: "attempt", Value: stagetrace.IntValue(int(number))}},
	}
}

func TestMatchLogBySeverityAndText(t *testing.T) {
	warn := logEvent("r", 13, stagetrace.StringValue("rate limited: retry after 20ms"), 1)
	errEv := logEvent("r", 17, stagetrace.MapValue(stagetrace.Attr{Key: "error", Value: stagetrace.StringValue("timeout")}), 2)
	info := logEvent("r", 9, stagetrace.StringValue("4 documents"), 3)
	none := logEvent("", 0, stagetrace.Value{}, 4)
	for where, want := range map[string][]bool{
		`severity>=warn`:                    {true, true, false, false},
		`severity>warn`:                     {false, true, false, false},
		`severity<=info`:                    {false, false, true, false},
		`severity=error`:                    {false, true, false, false},
		`severity!=error`:                   {true, false, true, true},
		`severity=WARNING`:                  {true, false, false, false},
		`severity exists`:                   {true, true, true, false},
		`severity~"^(warn|error)$"`:         {true, true, false, false},
		`body~"rate limit"`:                 {true, false, false, false},
		`body~"timeout"`:                    {false, true, false, false},
		`body exists`:                       {true, true, true, false},
		`severity_number>=13`:               {true, true, false, false},
		`run_id=""`:                         {false, false, false, true},
		`attempt=17`:                        {false, true, false, false},
		`attr.attempt>9 and severity<error`: {true, false, false, false},
	} {
		filters, err := query.Parse(where)
		require.NoError(t, err, where)
		require.NoError(t, query.CheckLogFilters(filters), where)
		for i, ev := range []stagetrace.TraceEvent{warn, errEv, info, none} {
			assert.Equal(t, want[i], query.MatchLog(filters, &ev), "%s on event %d", where, i)
		}
	}
}

func TestCheckLogFiltersRefuses(t *testing.T) {
	for where, msg := range map[string]string{
		`severity>=loud`:      "unknown severity",
		`severity>=3`:         "compares with a level",
		`name=x`:              "log events have no name",
		`finding.score>1`:     "no findings",
		`severity_number~"1"`: "does not apply",
		`body>=1`:             "compares with strings",
	} {
		filters, err := query.Parse(where)
		require.NoError(t, err, where)
		err = query.CheckLogFilters(filters)
		require.Error(t, err, where)
		assert.Contains(t, err.Error(), msg, where)
		ev := logEvent("r", 13, stagetrace.StringValue("x"), 1)
		assert.False(t, query.MatchLog(filters, &ev), "an invalid filter matches nothing: %s", where)
	}
}

func TestLevelRange(t *testing.T) {
	for where, want := range map[string][3]int{
		``:                                    {0, 6, 1},
		`severity>=warn`:                      {4, 6, 1},
		`severity>warn and severity<critical`: {5, 5, 1},
		`severity=info`:                       {3, 3, 1},
		`severity<=debug`:                     {0, 2, 1},
		`severity>error and severity<warn`:    {6, 3, 0},
	} {
		filters, err := query.Parse(where)
		require.NoError(t, err)
		lo, hi, ok := query.LevelRange(filters)
		assert.Equal(t, want, [3]int{int(lo), int(hi), map[bool]int{false: 0, true: 1}[ok]}, where)
	}
}

func TestSelectLogs(t *testing.T) {
	events := []stagetrace.TraceEvent{
		logEvent("a", 17, stagetrace.StringValue("late"), 9),
		{Name: "exception", RunID: "a", Time: time.Unix(1, 0)},
		logEvent("a", 13, stagetrace.StringValue("early"), 2),
		logEvent("b", 21, stagetrace.StringValue("other run"), 5),
	}
	got, err := query.SelectLogs(events, query.LogQuery{Run: "a"})
	require.NoError(t, err)
	require.Len(t, got, 2, "log events only")
	assert.Equal(t, "early", got[0].Body.AsString(), "in order of time")
	got, err = query.SelectLogs(events, query.LogQuery{Where: query.MustParse("severity>=error"), Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "late", got[0].Body.AsString(), "the latest kept")
	_, err = query.SelectLogs(events, query.LogQuery{Limit: -1})
	assert.Error(t, err)
}
