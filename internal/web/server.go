package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/stagetrace/stagetrace/internal/bearer"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/report"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// contentSecurityPolicy allows the page's own script, style sheets and
// API calls, and nothing else: no inline script, no other origin, no
// framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// tokenCookie holds the bearer token for a browser that gave it once as
// ?token=.
const tokenCookie = "stagetrace_token"

type server struct {
	cfg    config
	r      query.Reader
	pages  map[string]*template.Template
	css    []byte
	static http.Handler
}

// New returns the handler of the UI and the JSON API over r, which it
// does not close.
func New(r query.Reader, opts ...Option) (http.Handler, error) {
	if r == nil {
		return nil, errors.New("web: no reader")
	}
	cfg := config{poll: time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.poll <= 0 {
		return nil, errors.New("web: the poll interval must be positive")
	}
	css, err := report.CSS()
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, r: r, css: []byte(css), pages: map[string]*template.Template{}}
	for _, name := range []string{"runs", "run", "span", "spans", "sessions", "metrics"} {
		t, err := template.New("layout.tmpl").Funcs(funcs).ParseFS(templateFiles, "templates/layout.tmpl", "templates/"+name+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		s.pages[name] = t
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	s.static = http.StripPrefix("/static/", http.FileServerFS(sub))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.runsPage)
	mux.HandleFunc("GET /runs/{run}", s.runPage)
	mux.HandleFunc("GET /runs/{run}/spans/{span}", s.spanPage)
	mux.HandleFunc("GET /spans", s.spansPage)
	mux.HandleFunc("GET /sessions", s.sessionsPage)
	mux.HandleFunc("GET /metrics", s.metricsPage)
	mux.HandleFunc("GET /api/v1/metrics", s.apiMetrics)
	mux.HandleFunc("GET /api/v1/sessions", s.apiSessions)
	mux.HandleFunc("GET /static/report.css", s.reportCSS)
	mux.Handle("GET /static/", s.static)
	mux.HandleFunc("GET /api/v1/runs", s.apiRuns)
	mux.HandleFunc("GET /api/v1/runs/{run}", s.apiRun)
	mux.HandleFunc("GET /api/v1/spans", s.apiSpans)
	mux.HandleFunc("GET /api/v1/alerts", s.apiAlerts)
	return s.secure(mux), nil
}

// secure sets the security headers on every answer and checks the bearer
// token when one is set.
func (s *server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.cfg.token != "" && !s.authorized(w, req) {
			return
		}
		next.ServeHTTP(w, req)
	})
}

// authorized checks the token of req: the Authorization header, the
// cookie, or ?token= (which sets the cookie and redirects to the URL
// without it, so the token leaves the address bar and the history). It
// answers the request when it returns false.
func (s *server) authorized(w http.ResponseWriter, req *http.Request) bool {
	if bearer.Valid(req.Header.Get("Authorization"), s.cfg.token) {
		return true
	}
	if c, err := req.Cookie(tokenCookie); err == nil && bearer.Valid("Bearer "+c.Value, s.cfg.token) {
		return true
	}
	if tok := req.URL.Query().Get("token"); tok != "" && bearer.Valid("Bearer "+tok, s.cfg.token) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		u := *req.URL
		q := u.Query()
		q.Del("token")
		u.RawQuery = q.Encode()
		http.Redirect(w, req, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="stagetrace"`)
	http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
	return false
}

func (s *server) reportCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(s.css)
}
