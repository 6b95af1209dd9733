package web

import (
	"log/slog"
	"time"

	"github.com/stagetrace/stagetrace/monitor/alert"
)

type config struct {
	token  string
	alerts func() []alert.Alert
	poll   time.Duration
	logger *slog.Logger
}

// Option configures the handler New returns.
type Option func(*config)

// WithBearerToken requires every request to carry this bearer token, in
// the Authorization header or, for a person's browser, once in the URL as
// ?token= (which sets a cookie holding it).
func WithBearerToken(token string) Option { return func(c *config) { c.token = token } }

// WithAlerts shows the alerts alerts returns (a monitor's Alerts) on the
// run pages and under /api/v1/alerts.
func WithAlerts(alerts func() []alert.Alert) Option { return func(c *config) { c.alerts = alerts } }

// WithPollInterval sets how often the runs list asks for new runs.
// Default one second.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.poll = d } }

// WithLogger sets where failed requests are logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }
