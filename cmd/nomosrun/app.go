package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// hidden commands are left out of help and completion.
	hidden bool
	// subcommands are the words a command takes first (image build|save);
	// each may declare its own flags.
	subcommands []string
	// args is what the positional arguments are, for shell completion.
	args argKind
	// flags declares the command's flags on fs (those of subcommand sub when
	// it has subcommands) and returns the action that runs it on the
	// positional arguments left once they are parsed. Help and completion
	// call it only to read the flags.
	flags func(a *app, c *command, sub string, fs *flag.FlagSet) action
	// raw, when set instead of flags, runs the command on its arguments
	// unparsed: the node command parses its own.
	raw func(ctx context.Context, a *app, args []string) error
}

// action runs a command on its positional arguments.
type action func(ctx context.Context, pos []string) error

// commands is the table of subcommands, in help order.
var commands = []*command{
	runCmd,
	demoCmd,
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
	completionCmd,
	nodeCmd,
	netagentCmd,
	installFilesCmd,
}

// app is what every command shares: output streams and options.
type app struct {
	stdout, stderr io.Writer
	verbose        bool
	level          slog.LevelVar // the logger's level: debug with --verbose
	logger         *slog.Logger
	warnMu         sync.Mutex      // matrix jobs load scenarios concurrently
	warned         map[string]bool // warnings already printed (warnOnce)
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
	a.logger = slog.New(tint.NewHandler(stderr, &tint.Options{Level: &a.level, TimeFormat: time.TimeOnly}))
	// Global flags come before the command; the standard library stops
	// parsing at the first argument that is not a flag, the command.
	global := flag.NewFlagSet("nomosrun", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	a.verboseFlags(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.help(stdout)
			return ExitOK
		}
		fmt.Fprintf(stderr, "nomosrun: %s; run 'nomosrun help' for the list of commands and flags\n",
			gnuFlagNames.ReplaceAllString(err.Error(), "$1--$2"))
		return ExitUsage
	}
	a.applyTracing()
	args = global.Args()
	if len(args) == 0 {
		a.help(stdout)
		return ExitUsage
	}
	if args[0] == "help" {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				a.commandHelp(stdout, c)
				return ExitOK
			}
			fmt.Fprintf(stderr, "nomosrun: unknown command %q; run 'nomosrun help' for the list\n", args[1])
			return ExitUsage
		}
		a.help(stdout)
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
	err := a.dispatch(ctx, cmd, args[1:])
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

// dispatch parses c's flags from args and runs it.
func (a *app) dispatch(ctx context.Context, c *command, args []string) error {
	if c.raw != nil {
		return c.raw(ctx, a, args)
	}
	sub := ""
	if len(c.subcommands) > 0 {
		if len(args) == 0 || !slices.Contains(c.subcommands, args[0]) {
			return usageError(fmt.Errorf("%s: want '%s'; usage: nomosrun %s %s",
				c.name, strings.Join(c.subcommands, "' or '"), c.name, c.usage))
		}
		sub, args = args[0], args[1:]
	}
	fs := a.newFlags(c)
	act := c.flags(a, c, sub, fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	return act(ctx, pos)
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

// help prints the commands, the global flags and the exit codes.
func (a *app) help(w io.Writer) {
	fmt.Fprintln(w, "nomosrun runs multi-node blockchain scenarios written in Starlark.")
	fmt.Fprintln(w, "\nUsage: nomosrun [--verbose] COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		if c.hidden {
			continue
		}
		fmt.Fprintf(w, "  nomosrun %s %s\n      %s\n", c.name, c.usage, c.short)
	}
	fmt.Fprintln(w, "\nGlobal flags (also accepted after any command):")
	global := flag.NewFlagSet("nomosrun", flag.ContinueOnError)
	(&app{}).verboseFlags(global)
	printFlags(w, global)
	fmt.Fprintln(w, "\nRun 'nomosrun help COMMAND' for the flags of a command.")
	fmt.Fprintln(w, "\nExit codes: 0 ok, 2 usage, 3 script error, 4 invalid plan, 5 expectations failed,")
	fmt.Fprintln(w, "6 infrastructure error, 7 interrupted.")
}

// commandHelp prints the usage of c and every flag it declares.
func (a *app) commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: nomosrun %s %s\n%s\n", c.name, c.usage, c.short)
	for i, fs := range flagsOf(c) {
		if len(c.subcommands) > 0 {
			fmt.Fprintf(w, "\nflags of %s %s:\n", c.name, c.subcommands[i])
		} else {
			fmt.Fprintln(w, "\nflags:")
		}
		printFlags(w, fs)
	}
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
// returned error rather than exiting, accepts -v/--verbose, and prints its
// flags GNU-style (--flag) on -h/--help.
func (a *app) newFlags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are returned, and printed once by Main
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "usage: nomosrun %s %s\n%s\n\nflags:\n", cmd.name, cmd.usage, cmd.short)
		printFlags(a.stderr, fs)
	}
	a.verboseFlags(fs)
	return fs
}

// verboseFlags declares --verbose and its short form -v on fs.
func (a *app) verboseFlags(fs *flag.FlagSet) {
	fs.Var(verboseValue{a}, "verbose", "debug logging and Starlark backtraces")
	shortAlias(fs, "v", "verbose")
}

// verboseValue is the --verbose flag: it also turns on debug logging.
type verboseValue struct{ a *app }

func (v verboseValue) String() string {
	if v.a != nil && v.a.verbose {
		return "true"
	}
	return "false"
}

func (v verboseValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	v.a.verbose = b
	if b {
		v.a.level.Set(slog.LevelDebug)
	} else {
		v.a.level.Set(slog.LevelInfo)
	}
	return nil
}

func (v verboseValue) IsBoolFlag() bool { return true }

// parseArgs parses flags placed anywhere among the arguments (the standard
// library stops at the first positional argument) and returns the
// positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageError(err)
			}
			return nil, usageError(fmt.Errorf("%s: %s", fs.Name(), gnuFlagNames.ReplaceAllString(err.Error(), "$1--$2")))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// gnuFlagNames finds the long flag names in the flag package's errors
// ("flag needs an argument: -runner"), to write them --runner as help does.
var gnuFlagNames = regexp.MustCompile(`(^|: |flag |for )-([a-zA-Z0-9][a-zA-Z0-9_-]+)`)

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
