package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lmittmann/tint"

	"github.com/nomosrun/nomosrun/starlib"
)

// command is one subcommand. Adding a command is one file that defines it
// plus one line in the commands table.
type command struct {
	name  string
	usage string // arguments and flags, after the command name
	short string
	// hidden commands are left out of help.
	hidden bool
	run    func(ctx context.Context, a *app, c *command, args []string) error
}

// commands is the table of subcommands, in help order.
var commands = []*command{
	runCmd,
	upCmd,
	downCmd,
	planCmd,
	checkCmd,
	matrixCmd,
	doctorCmd,
	docsCmd,
	versionCmd,
	imageCmd,
	cleanCmd,
	nodeCmd,
}

// app is what every command shares: output streams and options.
type app struct {
	stdout, stderr io.Writer
	verbose        bool
	logger         *slog.Logger
}

// Main runs nomosrun with args (without the program name) and returns the
// exit code. It never panics: an internal error is reported on one line.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code ExitCode) {
	a := &app{stdout: stdout, stderr: stderr}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "nomosrun: internal error: %v (please report it)\n", r)
			if a.verbose {
				fmt.Fprintf(stderr, "%s", debug.Stack())
			}
			code = ExitInfrastructure
		}
	}()
	for len(args) > 0 && (args[0] == "-v" || args[0] == "--v") {
		a.verbose, args = true, args[1:]
	}
	for _, arg := range args {
		if arg == "-v" || arg == "--v" {
			a.verbose = true
		}
	}
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	a.logger = slog.New(tint.NewHandler(stderr, &tint.Options{Level: level, TimeFormat: time.TimeOnly}))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		a.help(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd := lookup(args[0])
	if cmd == nil && strings.HasSuffix(args[0], ".star") {
		if cmd = lookup("run"); cmd != nil {
			args = append([]string{"run"}, args...)
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "nomosrun: unknown command %q; run 'nomosrun help' for the list\n", args[0])
		return ExitUsage
	}
	err := cmd.run(ctx, a, cmd, args[1:])
	if err == nil {
		return ExitOK
	}
	code = codeOf(err)
	if code == ExitUsage && errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if !errors.Is(err, errSilent) {
		a.printError(err)
	}
	return code
}

// errSilent marks an error whose message was already shown.
var errSilent = errors.New("(reported above)")

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (a *app) help(w io.Writer) {
	fmt.Fprintln(w, "nomosrun runs multi-node blockchain scenarios written in Starlark.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands {
		if c.hidden {
			continue
		}
		fmt.Fprintf(w, "  nomosrun %s %s\n      %s\n", c.name, c.usage, c.short)
	}
	fmt.Fprintln(w, "\nGlobal flags:\n  -v  debug logging and Starlark backtraces")
	fmt.Fprintln(w, "\nExit codes: 0 ok, 2 usage, 3 script error, 4 invalid plan, 5 expectations failed,")
	fmt.Fprintln(w, "6 infrastructure error, 7 interrupted.")
}

// printError prints err as file:line:col: message lines; with -v a script
// error is followed by its Starlark backtrace.
func (a *app) printError(err error) {
	fmt.Fprintln(a.stderr, err)
	var se *starlib.ScriptError
	if a.verbose && errors.As(err, &se) && se.Backtrace != "" {
		fmt.Fprintln(a.stderr, se.Backtrace)
	}
}

// newFlags returns a flag set for cmd that reports errors through the
// returned error rather than exiting, and accepts -v.
func (a *app) newFlags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "usage: nomosrun %s %s\n%s\n\nflags:\n", cmd.name, cmd.usage, cmd.short)
		fs.PrintDefaults()
	}
	fs.BoolVar(&a.verbose, "v", a.verbose, "debug logging and Starlark backtraces")
	return fs
}

// parseArgs parses flags placed anywhere among the arguments (the standard
// library stops at the first positional argument) and returns the
// positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// setFlag collects repeated --set name=value flags.
type setFlag map[string]string

func (s setFlag) String() string { return "" }

func (s setFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	if _, dup := s[name]; dup {
		return fmt.Errorf("%s set twice", name)
	}
	s[name] = value
	return nil
}
