// Package pgtest gives tests a real PostgreSQL server: a throwaway cluster
// of their own, started with initdb and pg_ctl in a temporary directory and
// reached through a Unix socket in it (so no TCP port is taken), or the
// server STAGETRACE_POSTGRES_URL names. Each test gets a database of its
// own.
//
// A package's TestMain calls Main, which stops the cluster when the tests
// end. Where PostgreSQL is missing, tests needing it are skipped, except in
// CI (CI=true), where that is a failure.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

// URLEnv names an existing server to test against instead of a throwaway
// cluster: a URL of a role that may create databases.
const URLEnv = "STAGETRACE_POSTGRES_URL"

// binDirs are where Debian's postgresql package keeps initdb and pg_ctl,
// newest first; PATH is searched too.
var binDirs = []string{
	"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
	"/usr/lib/postgresql/14/bin", "/usr/lib/postgresql/13/bin",
}

// Server is a running PostgreSQL server.
type Server struct {
	admin string // URL of a role that creates databases
	// Set for a cluster this package started.
	dir, bin string
	asUser   string // the user pg_ctl runs as; "" for the current one
}

var (
	once    sync.Once
	server  *Server
	initErr error
	dbSeq   atomic.Int64
)

// Main runs the tests and then stops the cluster they started, if any. Use
// it as TestMain's body: os.Exit(pgtest.Main(m)).
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if server != nil && server.dir != "" {
		if err := server.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// MainCheckingLeaks is Main that also fails a run whose tests all passed
// but left a goroutine behind (goleak), checked before the cluster stops:
// os.Exit(pgtest.MainCheckingLeaks(m)).
func MainCheckingLeaks(m interface{ Run() int }) int { return Main(leakChecked{m}) }

// leakChecked runs m, then looks for goroutines left behind.
type leakChecked struct{ m interface{ Run() int } }

func (l leakChecked) Run() int {
	code := l.m.Run()
	if code != 0 {
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		return 1
	}
	return code
}

// Start returns the server, starting a cluster on the first call. t fails,
// or is skipped outside CI, when there is no PostgreSQL.
func Start(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { server, initErr = start() })
	if initErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %v (CI needs PostgreSQL: run 'make postgresql' as root)", initErr)
		}
		t.Skipf("pgtest: %v (install Debian's postgresql, or run 'make postgresql' as root, or set %s)", initErr, URLEnv)
	}
	return server
}

// URL returns the URL of a new, empty database on the server, dropped when
// t ends.
func URL(t testing.TB) string {
	t.Helper()
	return Start(t).NewDatabase(t)
}

// NewDatabase creates an empty database, dropped when t ends, and returns
// its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("stagetrace_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	// name is ours: digits and underscores.
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, s.admin)
		if err != nil {
			t.Errorf("pgtest: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	u, err := url.Parse(s.admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Restart stops the cluster and starts it again, as an outage of the
// server. Only for a cluster this package started.
func (s *Server) Restart() error {
	if s.dir == "" {
		return errors.New("pgtest: cannot restart a server given by " + URLEnv)
	}
	if err := s.pgctl("-m", "fast", "stop"); err != nil {
		return err
	}
	return s.pgctl("-l", filepath.Join(s.dir, "log"), "-o", s.serverOptions(), "start")
}

// Stop stops the cluster for good; Start is not called again.
func (s *Server) stop() error {
	err := s.pgctl("-m", "immediate", "stop")
	return errors.Join(err, os.RemoveAll(s.dir))
}

func start() (*Server, error) {
	if u := os.Getenv(URLEnv); u != "" {
		return &Server{admin: u}, nil
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	// A short path: a Unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "stpg")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		s.asUser = "nobody"
		u, err := user.Lookup(s.asUser)
		if err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return nil, errors.Join(fmt.Errorf("initdb: %w: %s", err, out), os.RemoveAll(dir))
	}
	if err := s.pgctl("-l", filepath.Join(dir, "log"), "-o", s.serverOptions(), "start"); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := s.watch(); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	s.admin = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {dir}, "port": {"5432"}}.Encode()}).String()
	return s, nil
}

// serverOptions listen on the Unix socket in the cluster's directory only,
// and trade durability for speed: the cluster is thrown away. The cache
// (shared_buffers) is sized as a server for a store of a million spans
// would be, to hold its indexes (about 550 MB: BENCHMARKS.md, "PostgreSQL
// store"), so that the ingest benchmark measures writes rather than pages
// going back and forth to the kernel; the server takes that memory only as
// it fills it.
func (s *Server) serverOptions() string {
	return strings.Join([]string{
		"-k", s.dir, "-c", "listen_addresses=", "-p", "5432",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=1GB", "-c", "max_wal_size=2GB",
	}, " ")
}

// watch starts a watchdog process that stops the cluster and removes its
// directory once this process is gone, so that a test binary that panics
// or is killed (Main's cleanup then never runs) leaves nothing running.
func (s *Server) watch() error {
	var stop []string
	for _, a := range s.command(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "stop").Args {
		stop = append(stop, shellQuote(a))
	}
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 1; done; %s >/dev/null 2>&1; rm -rf %s`,
		os.Getpid(), strings.Join(stop, " "), shellQuote(s.dir))
	cmd := exec.Command("sh", "-c", script)
	// Its own process group: a signal to the tests' group leaves it to
	// clean up after them.
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: watchdog: %w", err)
	}
	// Not waited for: it outlives this process by design, and init
	// reaps it.
	return cmd.Process.Release()
}

// shellQuote quotes a word for sh.
func shellQuote(w string) string { return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'" }

// Dir returns the directory of the cluster this package started, "" for a
// server given by URLEnv.
func (s *Server) Dir() string { return s.dir }

func (s *Server) pgctl(args ...string) error {
	args = append([]string{"-D", filepath.Join(s.dir, "data"), "-w", "-t", "60"}, args...)
	if out, err := s.command(filepath.Join(s.bin, "pg_ctl"), args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pg_ctl %s: %w: %s%s", strings.Join(args, " "), err, out, log)
	}
	return nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = s.dir
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

func findBin() (string, error) {
	for _, d := range binDirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL's pg_ctl and initdb are not installed")
}
