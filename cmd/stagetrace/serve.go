package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/ingest"
	"github.com/stagetrace/stagetrace/internal/web"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/summary"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "receive OTLP traces and logs from any language into the store, and serve a live web UI and JSON API over it",
		flags:   serveFlags,
	})
}

// Default addresses of serve: OTLP's ports, on loopback.
const (
	defaultOTLPGRPC = "127.0.0.1:4317"
	defaultOTLPHTTP = "127.0.0.1:4318"
	defaultUI       = "127.0.0.1:4040"
)

// serveContext is the context serve runs in until it is done: until
// SIGINT or SIGTERM. Tests replace it.
var serveContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// shutdownTimeout bounds the drain at shutdown.
const shutdownTimeout = 30 * time.Second

func serveFlags(fs *flag.FlagSet, e *env) func([]string) error {
	db := fs.String("db", defaultDB, "the `store` to write and read: the path of a SQLite file, created if missing, or a postgres:// URL of a PostgreSQL database")
	grpcAddr := fs.String("otlp-grpc", defaultOTLPGRPC, "the `address` of the OTLP/gRPC receiver (\"\" for none)")
	httpAddr := fs.String("otlp-http", defaultOTLPHTTP, "the `address` of the OTLP/HTTP receiver (\"\" for none)")
	uiAddr := fs.String("ui", defaultUI, "the `address` of the web UI and JSON API (\"\" for none)")
	rulesFile := fs.String("rules", "", "a stagetrace rules `file` (YAML): stages, findings, prices")
	presets := fs.String("presets", strings.Join(rules.PresetNames(), ","), "the convention `presets` to apply, comma-separated (\"\" for none)")
	ttl := fs.Duration("ttl", 0, "delete runs older than this `duration` from the store (0: keep everything)")
	alertsFile := fs.String("alerts", "", "the monitor's alert rules `file` (YAML); fired alerts are shown in the UI and written to the store")
	tokenEnv := fs.String("auth-token-env", "", "require the bearer token held by this environment `variable` on the UI, the API and OTLP")
	insecure := fs.Bool("insecure", false, "allow a non-loopback address without --auth-token-env")
	queue := fs.Int("queue", ingest.DefaultQueueSize, "the number of OTLP batches waiting for the store; past it, clients are asked to retry")
	maxBody := fs.Int64("max-body", ingest.DefaultMaxBodyBytes, "the largest OTLP request `bytes`, compressed or not")
	return func([]string) error {
		s := &serveCmd{db: *db, grpcAddr: *grpcAddr, httpAddr: *httpAddr, uiAddr: *uiAddr, stdout: e.stdout, stderr: e.stderr}
		if *grpcAddr == "" && *httpAddr == "" && *uiAddr == "" {
			return usagef("nothing to serve: --otlp-grpc, --otlp-http and --ui are all empty")
		}
		if *ttl < 0 {
			return usagef("--ttl cannot be negative")
		}
		token := ""
		if *tokenEnv != "" {
			token = os.Getenv(*tokenEnv)
			if token == "" {
				return usagef("--auth-token-env %s: the variable is empty or not set", *tokenEnv)
			}
		}
		for _, a := range []struct{ flag, addr string }{{"otlp-grpc", *grpcAddr}, {"otlp-http", *httpAddr}, {"ui", *uiAddr}} {
			if a.addr == "" {
				continue
			}
			loop, err := loopback(a.addr)
			if err != nil {
				return usagef("bad --%s %q: %v", a.flag, a.addr, err)
			}
			if !loop && token == "" && !*insecure {
				return usagef("--%s %s is not a loopback address: give --auth-token-env VAR (a bearer token), or --insecure to serve it to anyone who can reach it", a.flag, a.addr)
			}
		}
		set, err := loadRules(*rulesFile, splitList(*presets))
		if err != nil {
			return err
		}
		var alertRules []alert.Rule
		if *alertsFile != "" {
			if alertRules, err = alert.Load(*alertsFile); err != nil {
				return err
			}
		}
		s.token, s.rules, s.alertRules, s.ttl, s.queue, s.maxBody = token, set, alertRules, *ttl, *queue, *maxBody
		return s.run()
	}
}

// loopback reports whether addr (host:port) listens on loopback only. An
// empty host is every interface.
func loopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// loadRules returns the rule set of a rules file and presets; nil when
// both are empty.
func loadRules(path string, presets []string) (*rules.Set, error) {
	if path != "" {
		return rules.LoadFileWithPresets(path, presets...)
	}
	if len(presets) == 0 {
		return nil, nil
	}
	set, err := rules.Compile(rules.Config{Presets: presets})
	if err != nil {
		return nil, usagef("--presets: %v", err)
	}
	return set, nil
}

// serveStore is the store serve writes and its UI reads: SQLite or
// PostgreSQL.
type serveStore interface {
	stagetrace.Sink
	query.Reader
}

// openServeStore opens the store named by db for writing: a PostgreSQL
// database for a postgres:// URL, else a SQLite file, created with its
// directory when missing.
func openServeStore(db string, ttl time.Duration, logger *slog.Logger) (serveStore, error) {
	if postgressink.IsURL(db) {
		opts := []postgressink.Option{postgressink.WithLogger(logger)}
		if ttl > 0 {
			opts = append(opts, postgressink.WithTTL(ttl))
		}
		return postgressink.Open(context.Background(), db, opts...)
	}
	if dir := filepath.Dir(db); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	opts := []sqlitesink.Option{sqlitesink.WithLogger(logger)}
	if ttl > 0 {
		opts = append(opts, sqlitesink.WithTTL(ttl))
	}
	return sqlitesink.Open(db, opts...)
}

// storeName is db as it may be printed: a URL without its password.
func storeName(db string) string {
	if postgressink.IsURL(db) {
		return postgressink.Redacted(db)
	}
	return db
}

type serveCmd struct {
	db, grpcAddr, httpAddr, uiAddr string
	token                          string
	rules                          *rules.Set
	alertRules                     []alert.Rule
	ttl                            time.Duration
	queue                          int
	maxBody                        int64
	stdout, stderr                 io.Writer
}

func (s *serveCmd) run() (err error) {
	logger := slog.New(slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := openServeStore(s.db, s.ttl, logger)
	if err != nil {
		return err
	}
	closers := []func(context.Context) error{store.Shutdown}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		for i := len(closers) - 1; i >= 0; i-- {
			err = errors.Join(err, closers[i](ctx))
		}
	}()

	sinks := []stagetrace.Sink{store}
	var mon *monitor.Monitor
	if len(s.alertRules) > 0 {
		mon, err = monitor.New(monitor.WithAlerts(s.alertRules...), monitor.WithForward(store), monitor.WithLogger(logger))
		if err != nil {
			return err
		}
		closers = append(closers, mon.Shutdown)
		sinks = append(sinks, mon)
	}
	// The fan-out only writes: the store and the monitor are shut down
	// by closers, the monitor first, since it forwards alerts to the
	// store.
	fan, err := exporter.NewFanout(0, sinks...)
	if err != nil {
		return err
	}
	opts := []ingest.Option{ingest.WithRules(s.rules), ingest.WithQueueSize(s.queue), ingest.WithMaxBodyBytes(s.maxBody), ingest.WithLogger(logger)}
	if s.token != "" {
		opts = append(opts, ingest.WithBearerToken(s.token))
	}
	recv, err := ingest.New(fan, opts...)
	if err != nil {
		return err
	}
	closers = append(closers, recv.Shutdown)

	ctx, stop := serveContext()
	defer stop()
	errc := make(chan error, 3)
	var grpcLn, httpLn, uiLn net.Listener
	listen := func(addr string) (net.Listener, error) {
		if addr == "" {
			return nil, nil
		}
		return net.Listen("tcp", addr)
	}
	if grpcLn, err = listen(s.grpcAddr); err != nil {
		return err
	}
	if httpLn, err = listen(s.httpAddr); err != nil {
		closeListener(grpcLn)
		return err
	}
	if uiLn, err = listen(s.uiAddr); err != nil {
		closeListener(grpcLn)
		closeListener(httpLn)
		return err
	}
	// Servers stop before the receiver drains: closers run in reverse.
	if grpcLn != nil {
		srv := recv.GRPCServer()
		go func() { errc <- srv.Serve(grpcLn) }()
		closers = append(closers, func(ctx context.Context) error {
			done := make(chan struct{})
			go func() { srv.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				srv.Stop()
				<-done
			}
			return nil
		})
	}
	if httpLn != nil {
		srv := newHTTPServer(recv.HTTPHandler(), logger)
		go func() { errc <- srv.Serve(httpLn) }()
		closers = append(closers, srv.Shutdown)
	}
	if uiLn != nil {
		var wopts []web.Option
		if mon != nil {
			wopts = append(wopts, web.WithAlerts(mon.Alerts))
		}
		if s.token != "" {
			wopts = append(wopts, web.WithBearerToken(s.token))
		}
		h, err := web.New(store, append(wopts, web.WithLogger(logger))...)
		if err != nil {
			closeListener(uiLn)
			return err
		}
		srv := newHTTPServer(h, logger)
		go func() { errc <- srv.Serve(uiLn) }()
		closers = append(closers, srv.Shutdown)
	}
	s.printAddresses(grpcLn, httpLn, uiLn)

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	stats := recv.Stats()
	defer func() {
		fmt.Fprintf(s.stdout, "stagetrace serve: stopped; %d spans and %d log records received this time\n", stats.Spans, stats.Logs)
	}()
	return nil
}

// newHTTPServer returns a server of h whose timeouts bound what a slow
// or idle client holds.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func closeListener(l net.Listener) {
	if l != nil {
		_ = l.Close()
	}
}

// printAddresses prints where serve listens and what a client sets to
// send to it. The token itself is never printed.
func (s *serveCmd) printAddresses(grpcLn, httpLn, uiLn net.Listener) {
	w := s.stdout
	fmt.Fprintf(w, "stagetrace serve: store %s\n", summary.Safe(storeName(s.db)))
	if grpcLn != nil {
		fmt.Fprintf(w, "  OTLP/gRPC  %s\n", grpcLn.Addr())
	}
	if httpLn != nil {
		fmt.Fprintf(w, "  OTLP/HTTP  http://%s  (/v1/traces, /v1/logs)\n", httpLn.Addr())
	}
	if uiLn != nil {
		fmt.Fprintf(w, "  UI         http://%s/\n", uiLn.Addr())
	}
	fmt.Fprintln(w, "Point an OpenTelemetry SDK at it:")
	if httpLn != nil {
		fmt.Fprintf(w, "  export OTEL_EXPORTER_OTLP_ENDPOINT=http://%s\n", httpLn.Addr())
		fmt.Fprintln(w, "  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	}
	if grpcLn != nil {
		prefix := "  "
		if httpLn != nil {
			prefix = "  or, over gRPC: "
		}
		fmt.Fprintf(w, "%sexport OTEL_EXPORTER_OTLP_ENDPOINT=http://%s OTEL_EXPORTER_OTLP_PROTOCOL=grpc\n", prefix, grpcLn.Addr())
	}
	if s.token != "" {
		fmt.Fprintln(w, "  export OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer <the token>\"")
	}
	fmt.Fprintln(w, "Stop with Ctrl-C (or SIGTERM): what was received is written to the store first.")
}
