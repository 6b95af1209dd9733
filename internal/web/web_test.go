package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

const hostile = `<script>alert("x")</script>'; DROP TABLE spans; --`

var t0 = time.Date(2026, 11, 24, 4, 8, 40, 0, time.UTC)

// store writes two runs to a real store: "run-a" with a retrieval and an
// inference stage, and a run whose id, span names and findings are
// hostile.
func store(t *testing.T) *sqlitesink.Store {
	t.Helper()
	st, err := sqlitesink.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Shutdown(context.Background()) })
	span := func(run, stage, name string, id, parent byte, startMS, endMS int, findings stagetrace.Attrs) stagetrace.StageSpan {
		return stagetrace.StageSpan{RunID: run, Stage: stage, Name: name, TraceID: stagetrace.TraceID{id / 16, 1},
			SpanID: stagetrace.SpanID{id}, ParentSpanID: stagetrace.SpanID{parent},
			StartTime: t0.Add(time.Duration(startMS) * time.Millisecond), EndTime: t0.Add(time.Duration(endMS) * time.Millisecond),
			Findings: findings, Attrs: stagetrace.Attrs{{Key: "app.note", Value: stagetrace.StringValue(hostile)}}}
	}
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{
		span("run-a", "", "chat turn", 1, 0, 0, 80, stagetrace.Attrs{{Key: attributes.FindingSessionID, Value: stagetrace.StringValue("conv-1")}}),
		span("run-a", "retrieval", "vector search", 2, 1, 1, 12, stagetrace.Attrs{{Key: "documents", Value: stagetrace.Int64Value(4)}}),
		span("run-a", "inference", "chat gpt-4o", 3, 1, 13, 70, stagetrace.Attrs{
			{Key: "input_tokens", Value: stagetrace.Int64Value(812)}, {Key: "output_tokens", Value: stagetrace.Int64Value(95)},
			{Key: "model", Value: stagetrace.StringValue("gpt-4o")}}),
		span(hostile, hostile, hostile, 0x21, 0, 100, 200, stagetrace.Attrs{{Key: "x", Value: stagetrace.StringValue(hostile)}}),
	}}
	require.NoError(t, st.Write(context.Background(), b))
	return st
}

func serve(t *testing.T, opts ...Option) string {
	t.Helper()
	h, err := New(store(t), opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	base := serve(t)
	for _, p := range []string{"/", "/runs/run-a", "/runs/nope", "/api/v1/runs", "/static/app.js", "/static/report.css", "/spans?where=name%3D1", "/?where=(((", "/nope"} {
		resp, _ := get(t, base+p)
		csp := resp.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'", p)
		assert.Contains(t, csp, "default-src 'none'", p)
		assert.NotContains(t, csp, "unsafe-inline", p)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), p)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), p)
		assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), p)
	}
}

func TestPagesEscapeEverything(t *testing.T) {
	base := serve(t)
	for _, p := range []string{"/", "/runs/" + url.PathEscape(hostile), "/runs/" + url.PathEscape(hostile) + "/spans/2100000000000000",
		"/spans?where=" + url.QueryEscape(`name="`+strings.ReplaceAll(hostile, `"`, `\"`)+`"`), "/?where=" + url.QueryEscape(hostile)} {
		resp, body := get(t, base+p)
		assert.Less(t, resp.StatusCode, 500, p)
		assert.NotContains(t, body, "<script>alert", p)
		assert.NotContains(t, body, `"x")</script>`, p)
		assert.NotRegexp(t, `<script>[^<]`, body, "%s: no inline script", p)
	}
	_, body := get(t, base+"/runs/"+url.PathEscape(hostile))
	assert.Contains(t, body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "the hostile name is shown, escaped")
}

func TestRunsListFilterSortAndPage(t *testing.T) {
	base := serve(t)
	_, body := get(t, base+"/")
	assert.Contains(t, body, `data-run-id="run-a"`)
	assert.Contains(t, body, `data-api="/api/v1/runs?"`)

	// A filter, quoted as SQL would need, reaches the store as a value.
	resp, body := get(t, base+"/?where="+url.QueryEscape(`name="`+strings.ReplaceAll(hostile, `"`, `\"`)+`"`))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, body, `data-run-id="run-a"`)
	assert.Contains(t, body, `class="run"`, "the hostile run matches its own name")

	resp, body = get(t, base+"/?where="+url.QueryEscape("finding.input_tokens>500"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `data-run-id="run-a"`)
	assert.Equal(t, 1, strings.Count(body, `class="run"`))

	resp, body = get(t, base+"/?where="+url.QueryEscape("name=")+"&limit=1")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, `id="error"`)

	var runs []map[string]any
	getJSON(t, base+"/api/v1/runs?sort=spans&desc=1", &runs)
	require.Len(t, runs, 2)
	assert.Equal(t, "run-a", runs[0]["run_id"], "3 spans before 1")
	getJSON(t, base+"/api/v1/runs?sort=spans", &runs)
	assert.Equal(t, "run-a", runs[1]["run_id"])

	_, body = get(t, base+"/?limit=1")
	assert.Equal(t, 1, strings.Count(body, `class="run"`))
	assert.Contains(t, body, `id="next" href="/?limit=1&amp;offset=1"`)
	_, body = get(t, base+"/?limit=1&offset=1")
	assert.Contains(t, body, `id="prev"`)

	for _, bad := range []string{"limit=0", "limit=5000", "offset=-1", "sort=nope", "status=maybe", "since=yesterday"} {
		resp, body := get(t, base+"/api/v1/runs?"+bad)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
		assert.Contains(t, body, `"error"`, bad)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, body := get(t, u)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.NoError(t, json.Unmarshal([]byte(body), v))
}

func TestRunAndSpanPages(t *testing.T) {
	alerts := func() []alert.Alert {
		return []alert.Alert{{Name: "inference-errors", Level: alert.LevelWarning, State: alert.StateFiring, Message: "inference spans are failing", Time: t0}}
	}
	base := serve(t, WithAlerts(alerts))
	resp, body := get(t, base+"/runs/run-a")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `data-total-tokens="907"`, "tokens of the run, from the report's drawing")
	assert.Contains(t, body, `data-stage="retrieval"`)
	assert.Contains(t, body, `data-stage="inference"`)
	assert.Contains(t, body, "inference-errors", "the monitor's alerts")
	assert.Contains(t, body, `href="/runs/run-a/spans/0300000000000000"`)

	resp, body = get(t, base+"/runs/run-a/spans/0300000000000000")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `<h1 id="span-name">chat gpt-4o</h1>`)
	assert.Contains(t, body, `id="parent" href="/runs/run-a/spans/0100000000000000"`)
	assert.Contains(t, body, "input_tokens")

	_, body = get(t, base+"/runs/run-a/spans/0100000000000000")
	assert.Contains(t, body, "vector search", "children listed")

	resp, _ = get(t, base+"/runs/nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, base+"/runs/run-a/spans/ffffffffffffffff")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, base+"/api/v1/runs/nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	var as []alert.Alert
	getJSON(t, base+"/api/v1/alerts", &as)
	require.Len(t, as, 1)

	var spans []map[string]any
	getJSON(t, base+"/api/v1/spans?where="+url.QueryEscape("stage=inference"), &spans)
	require.Len(t, spans, 1)
	assert.Equal(t, "chat gpt-4o", spans[0]["name"])
	_, body = get(t, base+"/spans?where="+url.QueryEscape("stage=inference"))
	assert.Contains(t, body, "chat gpt-4o")
}

func TestBearerToken(t *testing.T) {
	base := serve(t, WithBearerToken("tok-123"))
	resp, body := get(t, base+"/api/v1/runs")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.NotContains(t, body, "tok-123")
	resp, _ = get(t, base+"/?token=wrong")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/runs", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok-123")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A browser gives it once in the URL: it is moved into a cookie and
	// out of the address.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Get(base + "/?token=tok-123&status=ok")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/?status=ok", resp.Header.Get("Location"))
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.True(t, cookies[0].HttpOnly)
	req, err = http.NewRequest(http.MethodGet, base+"/", nil)
	require.NoError(t, err)
	req.AddCookie(cookies[0])
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestSessions(t *testing.T) {
	base := serve(t)
	resp, body := get(t, base+"/sessions")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `data-session-id="conv-1"`)
	assert.Contains(t, body, `href="/?session=conv-1"`)

	_, body = get(t, base+"/?session=conv-1")
	assert.Contains(t, body, `<span id="session">conv-1</span>`)
	assert.Equal(t, 1, strings.Count(body, `class="run"`), "only the session's run")
	assert.Contains(t, body, `data-api="/api/v1/runs?session=conv-1"`, "the page polls the session's runs")

	var runs []map[string]any
	getJSON(t, base+"/api/v1/runs?session=conv-1", &runs)
	require.Len(t, runs, 1)
	assert.Equal(t, "run-a", runs[0]["run_id"])
	getJSON(t, base+"/api/v1/runs?session=nope", &runs)
	assert.Empty(t, runs)

	var sessions []map[string]any
	getJSON(t, base+"/api/v1/sessions", &sessions)
	require.Len(t, sessions, 1)
	assert.Equal(t, "conv-1", sessions[0]["id"])
	resp, _ = get(t, base+"/api/v1/sessions?limit=0")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestMetrics(t *testing.T) {
	base := serve(t)
	resp, body := get(t, base+"/metrics?name=input_tokens&since=8760h&step=1h&by=stage")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, `id="metric-charts" data-series="1"`)
	assert.Contains(t, body, `data-metric="input_tokens stage=inference"`, "the report's chart drawing")
	assert.Contains(t, body, "<svg")

	var series []map[string]any
	getJSON(t, base+"/api/v1/metrics?name=input_tokens&since=8760h&step=1h", &series)
	require.Len(t, series, 1)
	points := series[0]["points"].([]any)
	require.Len(t, points, 1)
	assert.Equal(t, 812.0, points[0].(map[string]any)["value"])

	_, body = get(t, base+"/metrics")
	assert.NotContains(t, body, `id="metric-charts"`, "no chart before a metric is named")
	for _, bad := range []string{"", "name=x&step=10ms", "name=x&since=-1h", "name=x&agg=median"} {
		resp, _ := get(t, base+"/api/v1/metrics?"+bad)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
}
