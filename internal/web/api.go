package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/summary"
)

// writeJSON writes v as the command's --json does.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// As the command writes it: application/json with nosniff is never
	// read as HTML.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// apiError is the body of a failed API request.
type apiError struct {
	Error string `json:"error"`
}

func (s *server) apiFail(w http.ResponseWriter, req *http.Request, code int, err error) {
	if code >= 500 {
		s.cfg.logger.Error("stagetrace serve: API request failed", "path", req.URL.Path, "err", err)
	}
	writeJSON(w, code, apiError{Error: err.Error()})
}

// apiRuns answers GET /api/v1/runs as "stagetrace runs --json" writes.
func (s *server) apiRuns(w http.ResponseWriter, req *http.Request) {
	p, err := parseRuns(req.URL.Query(), time.Now())
	if err != nil {
		s.apiFail(w, req, http.StatusBadRequest, err)
		return
	}
	runs, err := s.runs(req, p)
	if err != nil {
		s.apiFail(w, req, http.StatusInternalServerError, err)
		return
	}
	if runs == nil {
		runs = []stagetrace.Run{}
	}
	writeJSON(w, http.StatusOK, runs)
}

// apiRun answers GET /api/v1/runs/{run} as "stagetrace show RUN --json"
// writes.
func (s *server) apiRun(w http.ResponseWriter, req *http.Request) {
	run, records, err := s.runRecords(req)
	if errors.Is(err, query.ErrNotFound) {
		s.apiFail(w, req, http.StatusNotFound, errors.New("no such run"))
		return
	}
	if err != nil {
		s.apiFail(w, req, http.StatusInternalServerError, err)
		return
	}
	sess, err := query.SessionOf(req.Context(), s.r, records.Spans, query.DefaultSessionKey)
	if err != nil {
		s.apiFail(w, req, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, summary.NewRunJSON(run, records, sess))
}

// apiSpans answers GET /api/v1/spans as "stagetrace spans --json"
// writes, newest first.
func (s *server) apiSpans(w http.ResponseWriter, req *http.Request) {
	p, err := parseSpans(req.URL.Query())
	if err != nil {
		s.apiFail(w, req, http.StatusBadRequest, err)
		return
	}
	spans, err := s.r.Spans(req.Context(), p.q)
	if err != nil {
		s.apiFail(w, req, http.StatusInternalServerError, err)
		return
	}
	if spans == nil {
		spans = []stagetrace.StageSpan{}
	}
	writeJSON(w, http.StatusOK, spans)
}

// apiSessions answers GET /api/v1/sessions as "stagetrace sessions
// --json" writes.
func (s *server) apiSessions(w http.ResponseWriter, req *http.Request) {
	p, err := parseSessions(req.URL.Query(), time.Now())
	if err != nil {
		s.apiFail(w, req, http.StatusBadRequest, err)
		return
	}
	sessions, err := query.Sessions(req.Context(), s.r, p.f)
	if err != nil {
		s.apiFail(w, req, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, sessions)
}

// runs returns the page of runs p asks for, sorted.
func (s *server) runs(req *http.Request, p runsParams) ([]stagetrace.Run, error) {
	var runs []stagetrace.Run
	var err error
	if p.Session != "" {
		runs, err = query.SessionRuns(req.Context(), s.r, p.filter, query.SessionFilter{Key: query.DefaultSessionKey, ID: p.Session})
	} else {
		runs, err = s.r.Runs(req.Context(), p.filter)
	}
	p.sortRuns(runs)
	return runs, err
}

// apiMetrics answers GET /api/v1/metrics?name= as "stagetrace metrics
// NAME --json" writes.
func (s *server) apiMetrics(w http.ResponseWriter, req *http.Request) {
	p, err := parseMetrics(req.URL.Query(), time.Now())
	if err == nil && p.Name == "" {
		err = errors.New("no metric name: give ?name=")
	}
	if err != nil {
		s.apiFail(w, req, http.StatusBadRequest, err)
		return
	}
	series, err := s.r.Metrics(req.Context(), p.q)
	if err != nil {
		s.apiFail(w, req, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, summary.NewSeriesJSON(series))
}

// apiAlerts answers GET /api/v1/alerts: the monitor's alerts.
func (s *server) apiAlerts(w http.ResponseWriter, _ *http.Request) {
	alerts := s.alerts()
	if alerts == nil {
		alerts = []alert.Alert{}
	}
	writeJSON(w, http.StatusOK, alerts)
}

func (s *server) alerts() []alert.Alert {
	if s.cfg.alerts == nil {
		return nil
	}
	return s.cfg.alerts()
}

func (s *server) runRecords(req *http.Request) (stagetrace.Run, stagetrace.Batch, error) {
	id := req.PathValue("run")
	run, err := s.r.Run(req.Context(), id)
	if err != nil {
		return run, stagetrace.Batch{}, err
	}
	b, err := s.r.RunRecords(req.Context(), id)
	return run, b, err
}
