package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lmittmann/tint"

	"github.com/nomosrun/nomosrun/engine/expect"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/internal/env"
	_ "github.com/nomosrun/nomosrun/nodekind/cometbft"  // registers the cometbft node kind
	_ "github.com/nomosrun/nomosrun/nodekind/reference" // registers the reference node kind
	"github.com/nomosrun/nomosrun/runners"
	_ "github.com/nomosrun/nomosrun/runners/attach"  // registers the attach runner
	_ "github.com/nomosrun/nomosrun/runners/compose" // registers the compose runner
	_ "github.com/nomosrun/nomosrun/runners/host"    // registers the host runner
	_ "github.com/nomosrun/nomosrun/runners/k8s"     // registers the k8s runner
	"github.com/nomosrun/nomosrun/starlib"
)

var runCmd = &command{
	name:  "run",
	args:  argStar,
	usage: "FILE [--runner host] [--set name=value]... [--seed N] [--run-dir DIR] [--keep-on-failure]",
	short: "deploy a scenario, drive it, judge it, report and clean up (also: nomosrun FILE)",
	flags: runFlags,
}

func runFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	return runWith(a, c, fs, scenarioFlagsOn(fs))
}

// runWith declares the flags of a run on fs and returns the action that
// runs the scenario its one argument names, with the scenario flags f.
func runWith(a *app, c *command, fs *flag.FlagSet, f *scenarioFlags) action {
	runDirFlag := fs.String("run-dir", "", "keep the run directory in `DIR`: configs, data, node logs, report.json, junit.xml, report.html (default: a temporary directory, removed after a passing run)")
	deprecatedAlias(fs, "report-dir", "run-dir", a.stderr)
	keepOnFailure := fs.Bool("keep-on-failure", false, "after a failed run, keep the nodes running for inspection until Ctrl-C")
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 1 {
			return usageError(fmt.Errorf("%s: want exactly one scenario file; usage: nomosrun %s %s", c.name, c.name, c.usage))
		}
		res, err := a.load(ctx, pos[0], f)
		if err != nil {
			return err
		}
		for _, w := range res.Plan.Warnings {
			fmt.Fprintf(a.stderr, "warning: %s\n", w)
		}
		r, err := runners.New(f.runner)
		if err != nil {
			return usageError(err)
		}
		if err := precheck(ctx, f.runner); err != nil {
			return err
		}
		dir, keep, err := runDirectory(*runDirFlag, res.Plan.Scenario)
		if err != nil {
			return withCode(ExitInfrastructure, err)
		}
		tel, err := newTelemetry(ctx, a.logger, a.stderr)
		if err != nil {
			return err
		}
		defer tel.close()
		rec := tel.run()
		prog := newProgress(a.stderr)
		fmt.Fprintf(a.stderr, "nomosrun: %s on the %s runner (seed %d), run directory %s\n",
			res.Plan.Scenario, r.Name(), res.Plan.Seed, dir)
		printObservability(a.stderr, dir, false)
		result, err := run.Execute(ctx, res.Plan, r, run.Options{
			RunDir:    dir,
			ReportDir: dir,
			Custom:    expect.CustomFunc(res.Custom),
			Hooks:     res.Hooks,
			OnFailure: a.keepOnFailure(*keepOnFailure, prog),
			Observer:  rec.observe(prog.observe),
			Logger:    a.engineLogger(),
		})
		prog.done()
		if line := rec.export(res.Plan, result); line != "" {
			fmt.Fprintln(a.stderr, "nomosrun:", line)
		}
		if result != nil {
			if werr := report.WriteText(a.stdout, result); werr != nil {
				a.logger.Warn("write summary", "err", werr)
			}
		}
		a.finishRunDir(dir, err == nil && !keep)
		code := codeOf(err)
		if err != nil && result != nil {
			// The summary above already shows the error and every failed
			// expectation; a hook's Starlark backtrace is shown under -v.
			var se *starlib.ScriptError
			if a.verbose && errors.As(err, &se) && se.Backtrace != "" {
				fmt.Fprintln(a.stderr, se.Backtrace)
			}
			return withCode(code, errSilent)
		}
		return withCode(code, err)
	}
}

// keepOnFailure returns the hook that, when keep is set, holds a failed
// run's cluster up and prints its endpoints until the user interrupts.
func (a *app) keepOnFailure(keep bool, prog *progress) func(context.Context, runners.Cluster, error) {
	if !keep {
		return nil
	}
	return func(ctx context.Context, c runners.Cluster, err error) {
		prog.done()
		fmt.Fprintf(a.stderr, "nomosrun: the run failed: %v\n", err)
		fmt.Fprintln(a.stderr, "nomosrun: keeping the nodes up for inspection (Ctrl-C tears them down):")
		for _, n := range c.Nodes() {
			fmt.Fprintf(a.stderr, "  %-14s %-9s api %s  testing %s\n", n.Name(), n.Role(), n.API(), n.TestingAPI())
		}
		<-ctx.Done()
	}
}

// runDirectory returns the directory of a run: the --run-dir given (kept),
// else a new temporary directory (removed after a passing run).
func runDirectory(given, scenario string) (dir string, keep bool, err error) {
	if given != "" {
		if err := clearEarlierRun(given); err != nil {
			return "", false, err
		}
		if err := os.MkdirAll(given, 0o755); err != nil {
			return "", false, fmt.Errorf("run directory: %w", err)
		}
		abs, err := filepath.Abs(given)
		return abs, true, err
	}
	name := strings.TrimSuffix(filepath.Base(scenario), filepath.Ext(scenario))
	dir, err = os.MkdirTemp("", "nomosrun-"+name+"-")
	if err != nil {
		return "", false, fmt.Errorf("run directory: %w", err)
	}
	return dir, false, nil
}

// keepLogs reports whether NOMOS_TESTS_KEEP_LOGS asks to keep what passing
// runs would remove.
func keepLogs() bool { return env.KeepLogs.Set() }

// finishRunDir ends a run's use of its directory, the same way for run and
// up: a directory that may go (the run passed in a temporary directory) is
// removed unless NOMOS_TESTS_KEEP_LOGS is set; a kept one is announced with
// where its node logs are.
func (a *app) finishRunDir(dir string, mayRemove bool) {
	if mayRemove && !keepLogs() {
		os.RemoveAll(dir)
		return
	}
	fmt.Fprintf(a.stderr, "nomosrun: run directory kept at %s (node logs in %s)\n", dir, filepath.Join(dir, "logs"))
}

// clearEarlierRun removes the node data, configs and logs an earlier run
// left in dir: nodes would otherwise recover the old chain. A data folder
// that no run of nomosrun made is left alone and reported.
func clearEarlierRun(dir string) error {
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(data); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "configs")); err != nil {
		return usageError(fmt.Errorf("%s exists and was not made by nomosrun; choose another --run-dir", data))
	}
	for _, sub := range []string{"data", "configs", "logs"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("clear the earlier run in %s: %w", dir, err)
		}
	}
	return nil
}

// engineLogger is the logger handed to the engine: warnings only, since the
// progress lines already show phases, unless -v asks for everything.
func (a *app) engineLogger() *slog.Logger {
	if a.verbose {
		return a.logger
	}
	return slog.New(tint.NewHandler(a.stderr, &tint.Options{Level: slog.LevelWarn, TimeFormat: time.TimeOnly}))
}
