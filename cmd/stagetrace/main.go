// Command stagetrace reads the runs stagetrace recorded: from the SQLite
// store the sqlitesink package writes, or from a JSONL file.
//
//	stagetrace runs                       a table of runs
//	stagetrace show RUN                   a run's span tree
//	stagetrace spans --where 'finding.input_tokens>500'
//	stagetrace logs RUN --where 'severity>=warn'
//	stagetrace metrics NAME --since 1h --step 5m
//	stagetrace export --format csv -o spans.csv
//	stagetrace report RUN -o report.html  a run as one HTML file
//
// Run "stagetrace help" for the list of subcommands and "stagetrace
// SUBCOMMAND -h" for the flags of one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stagetrace/stagetrace/summary"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the subcommand failed: missing file, bad filter, unknown run, ...
	exitUsage = 2 // the command line is wrong: unknown subcommand or flag
)

// clock is what "now" means to the subcommands; tests fix it.
var clock = time.Now

// command is one subcommand.
type command struct {
	name    string
	args    string // what follows the name in the synopsis
	summary string // one line for "stagetrace help"
	// flags declares the subcommand's flags on fs and returns the
	// function that runs it with the positional arguments.
	flags func(fs *flag.FlagSet, e *env) func(args []string) error
	// positional is the number of positional arguments it takes; with
	// optional, at most that many.
	positional int
	optional   bool
}

// commands holds every subcommand by name. Each file of this package
// registers its own from an init function, so a new subcommand is a new
// file.
var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("stagetrace: subcommand " + c.name + " registered twice")
	}
	commands[c.name] = c
}

// env is what a subcommand writes to.
type env struct {
	stdout, stderr io.Writer
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run runs the command line args (without the program name) and returns
// the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeHelp(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "stagetrace help: unknown subcommand %q\n", args[1])
				writeHelp(stderr)
				return exitUsage
			}
			fs, _ := newFlagSet(c, &env{stdout: stdout, stderr: stderr})
			writeUsage(stdout, c, fs)
			return exitOK
		}
		writeHelp(stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "stagetrace: unknown subcommand %q\n", name)
		writeHelp(stderr)
		return exitUsage
	}
	e := &env{stdout: stdout, stderr: stderr}
	fs, do := newFlagSet(c, e)
	positional, err := parse(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		writeUsage(stdout, c, fs)
		return exitOK
	}
	if err == nil && len(positional) != c.positional && !(c.optional && len(positional) < c.positional) {
		if c.positional == 0 {
			err = usagef("unexpected argument %q", positional[0])
		} else {
			err = usagef("want %s, got %d arguments", c.args, len(positional))
		}
	}
	if err == nil {
		err = do(positional)
	}
	if err == nil {
		return exitOK
	}
	// The library's own prefixes say nothing more to someone at the
	// command line.
	msg := err.Error()
	for _, prefix := range []string{"sqlitesink: ", "memquery: ", "metrics: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	// An error can quote what a span or a file holds.
	fmt.Fprintf(stderr, "stagetrace %s: %s\n", c.name, summary.Safe(msg))
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "run \"stagetrace %s -h\" for its usage\n", c.name)
		return exitUsage
	}
	var detailed interface{ Detail() string }
	if errors.As(err, &detailed) {
		for _, line := range strings.Split(detailed.Detail(), "\n") {
			fmt.Fprintln(stderr, summary.Safe(line))
		}
	}
	return exitFail
}

func newFlagSet(c *command, e *env) (*flag.FlagSet, func([]string) error) {
	fs := flag.NewFlagSet("stagetrace "+c.name, flag.ContinueOnError)
	// Parse errors are reported by run, once, on stderr; -h prints the
	// usage on stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs, c.flags(fs, e)
}

// parse parses flags and positional arguments in any order ("show RUN
// --json" as well as "show --json RUN"); "--" ends the flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func writeHelp(w io.Writer) {
	fmt.Fprint(w, `stagetrace reads the runs stagetrace recorded, from a SQLite store or a JSONL file.

Usage:
  stagetrace SUBCOMMAND [flags] [arguments]

Subcommands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, commands[n].summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Run "stagetrace SUBCOMMAND -h" for the flags of a subcommand.
The store is read from --db (default `+defaultDB+`): a SQLite file, or a PostgreSQL
database given as a postgres:// URL; only serve creates or writes it.
`)
}

func writeUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	synopsis := "stagetrace " + c.name + " [flags]"
	if c.args != "" {
		synopsis += " " + c.args
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, c.summary)
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
	}
}
