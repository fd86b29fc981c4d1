package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/expect"
	"github.com/nomosrun/nomosrun/engine/matrix"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/engine/runtrace"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/starlib"
)

var matrixCmd = &command{
	name: "matrix",
	args: argStar,
	usage: "FILE [--matrix name=v1,v2]... [--runner host,compose,k8s] [--parallel N] [--shard i/n] [--fail-fast] " +
		"[--run-dir DIR] [--set name=value]... [--seed N]",
	short: "run a scenario once per combination of param values; one summary table, summary.json and junit.xml",
	flags: matrixFlags,
}

// axisFlag collects repeated --matrix name=v1,v2 flags in order.
type axisFlag []matrix.Axis

func (f *axisFlag) String() string { return "" }

func (f *axisFlag) Set(v string) error {
	a, err := matrix.ParseAxis(v)
	if err != nil {
		return err
	}
	*f = append(*f, a)
	return nil
}

// matrixRun is the state of one matrix command.
type matrixRun struct {
	a        *app
	file     string
	set      map[string]string
	seed     int64
	dir      string
	failFast bool
	prog     *matrixProgress
	tel      *telemetry // nil without NOMOS_OTLP_ENDPOINT
}

func matrixFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	f := scenarioFlagsOn(fs)
	var axes axisFlag
	fs.Var(&axes, "matrix", "an axis: param name and its values, `name=v1,v2,...` (repeatable; replaces the scenario's matrix() axis of that name)")
	parallel := fs.Int("parallel", 1, "run up to N jobs at once")
	shard := fs.String("shard", "", "run only shard i of n of the jobs (i/n, e.g. 2/4), for splitting a matrix over CI machines")
	failFast := fs.Bool("fail-fast", false, "start no new job after a job fails")
	runDirFlag := fs.String("run-dir", "", "write summary.json, junit.xml, index.html and each job's run directory jobs/<id>/ to `DIR` (default: a new temporary directory)")
	deprecatedAlias(fs, "report-dir", "run-dir", a.stderr)
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 1 {
			return usageError(errors.New("matrix: want exactly one scenario file; usage: nomosrun matrix " + c.usage))
		}
		if *parallel < 1 {
			return usageError(fmt.Errorf("matrix: --parallel %d: want at least 1", *parallel))
		}
		runnerNames, err := splitRunners(f.runner)
		if err != nil {
			return usageError(err)
		}
		// The scenario is interpreted once with its defaults to read its
		// matrix() and its declared params.
		base, err := starlib.InterpretFile(ctx, pos[0], starlib.Options{Set: f.set, Seed: f.seed, Logger: a.logger})
		if err != nil {
			return err
		}
		declared := make([]matrix.Axis, len(base.Plan.Matrix))
		for i, ax := range base.Plan.Matrix {
			declared[i] = matrix.Axis{Name: ax.Name, Values: ax.Values}
		}
		all, err := matrix.Merge(declared, axes)
		if err != nil {
			return usageError(fmt.Errorf("matrix: %w", err))
		}
		if err := checkAxes(all, base.Plan.Params, f.set); err != nil {
			return usageError(err)
		}
		jobs, err := matrix.Expand(runnerNames, all)
		if err != nil {
			return usageError(fmt.Errorf("matrix: %w", err))
		}
		total := len(jobs)
		if *shard != "" {
			i, n, err := matrix.ParseShard(*shard)
			if err != nil {
				return usageError(err)
			}
			jobs = matrix.Shard(jobs, i, n)
		}
		dir, err := matrixDir(*runDirFlag, base.Plan.Scenario)
		if err != nil {
			return withCode(ExitInfrastructure, err)
		}
		tel, err := newTelemetry(ctx, a.logger, a.stderr)
		if err != nil {
			return err
		}
		defer tel.close()
		m := &matrixRun{a: a, file: pos[0], set: f.set, seed: f.seed, dir: dir, failFast: *failFast,
			prog: newMatrixProgress(a.stderr, len(jobs)), tel: tel}
		fmt.Fprintf(a.stderr, "nomosrun: matrix of %s: %d of %d jobs, %d at a time, run directory %s\n",
			base.Plan.Scenario, len(jobs), total, *parallel, dir)
		sum := &matrix.Summary{Scenario: base.Plan.Scenario, Seed: f.seed, Axes: all, Runners: runnerNames,
			Shard: *shard, Parallel: *parallel, Started: time.Now()}
		sum.Jobs = m.runAll(ctx, jobs, *parallel)
		m.prog.stop()
		sum.Seconds = time.Since(sum.Started).Seconds()
		worst := ExitOK
		for _, j := range sum.Jobs {
			worst = max(worst, ExitCode(j.ExitCode))
		}
		if ctx.Err() != nil {
			worst = ExitInterrupted
		}
		sum.ExitCode = int(worst)
		if err := sum.WriteFiles(dir); err != nil {
			return withCode(ExitInfrastructure, err)
		}
		if err := sum.WriteTable(a.stdout); err != nil {
			a.logger.Warn("write summary", "err", err)
		}
		fmt.Fprintf(a.stderr, "nomosrun: summary in %s (summary.json, junit.xml, index.html)\n", dir)
		if worst != ExitOK {
			return withCode(worst, errSilent)
		}
		return nil
	}
}

// splitRunners parses --runner host,compose,k8s.
func splitRunners(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			return nil, fmt.Errorf("matrix: --runner %q: want a comma-separated list of distinct runners, e.g. host,compose", s)
		}
		if _, err := capsOf(r); err != nil {
			return nil, err
		}
		seen[r] = true
		out = append(out, r)
	}
	return out, nil
}

// seedAxis is the axis name that varies the run's --seed rather than a
// param, unless the scenario declares a param of that name.
const seedAxis = "seed"

// checkAxes makes sure every axis names a declared param (or is the seed
// axis) and none is also fixed with --set.
func checkAxes(axes []matrix.Axis, params map[string]string, set map[string]string) error {
	if len(axes) == 0 {
		return errors.New("matrix: no axis; give --matrix name=v1,v2 or declare matrix(name=[...]) in the scenario")
	}
	for _, ax := range axes {
		if _, declared := params[ax.Name]; ax.Name == seedAxis && !declared {
			for _, v := range ax.Values {
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					return fmt.Errorf("matrix: seed=%s: want an integer seed", v)
				}
			}
			continue
		}
		if _, ok := params[ax.Name]; !ok {
			names := make([]string, 0, len(params))
			for n := range params {
				names = append(names, n)
			}
			sort.Strings(names)
			have := "the scenario declares no param()"
			if len(names) > 0 {
				have = "declared params: " + strings.Join(names, ", ")
			}
			return fmt.Errorf("matrix: axis %s: no such param (%s)", ax.Name, have)
		}
		if _, ok := set[ax.Name]; ok {
			return fmt.Errorf("matrix: %s is both an axis and a --set", ax.Name)
		}
	}
	return nil
}

// matrixDir returns the matrix's run directory: the --run-dir given, or a
// new temporary one.
func matrixDir(given, scenario string) (string, error) {
	if given == "" {
		name := strings.TrimSuffix(filepath.Base(scenario), filepath.Ext(scenario))
		return os.MkdirTemp("", "nomosrun-matrix-"+name+"-")
	}
	if err := os.MkdirAll(given, 0o755); err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	return filepath.Abs(given)
}

// runAll runs the jobs, up to parallel at once, and returns their results in
// job order.
func (m *matrixRun) runAll(ctx context.Context, jobs []matrix.Job, parallel int) []matrix.JobResult {
	results := make([]matrix.JobResult, len(jobs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := false
	for i, j := range jobs {
		sem <- struct{}{}
		mu.Lock()
		stop := failed && m.failFast
		mu.Unlock()
		if stop || ctx.Err() != nil {
			<-sem
			why := "skipped after a failure (--fail-fast)"
			if ctx.Err() != nil {
				why = "skipped: interrupted"
			}
			results[i] = matrix.JobResult{Job: j, Outcome: matrix.OutcomeSkipped, Error: why}
			m.prog.finished(results[i])
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = m.runJob(ctx, j)
			m.prog.finished(results[i])
			if results[i].ExitCode != 0 {
				mu.Lock()
				failed = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// runJob runs one job like `nomosrun run --run-dir DIR/jobs/ID`: the host
// runner gives every run its own ports and the job its own directory, so
// jobs running together share nothing.
func (m *matrixRun) runJob(ctx context.Context, j matrix.Job) (res matrix.JobResult) {
	start := time.Now()
	res = matrix.JobResult{Job: j, Dir: filepath.ToSlash(filepath.Join("jobs", j.ID))}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	m.prog.started(j)
	var fail func(err error) matrix.JobResult
	defer func() {
		// One job's internal error must not end the other jobs' runs.
		if r := recover(); r != nil {
			res = fail(withCode(ExitInfrastructure, fmt.Errorf("internal error: %v (please report it)", r)))
		}
	}()
	fail = func(err error) matrix.JobResult {
		res.ExitCode = int(codeOf(err))
		res.Outcome = report.OutcomeError
		if res.ExitCode == int(ExitInterrupted) {
			res.Outcome = report.OutcomeInterrupted
		}
		res.Error = oneLine(err)
		return res
	}
	set := j.Set()
	for k, v := range m.set {
		set[k] = v
	}
	seed := m.seed
	if v, ok := set[seedAxis]; ok {
		// A seed axis sets the job's --seed (checked by checkAxes).
		seed, _ = strconv.ParseInt(v, 10, 64)
		delete(set, seedAxis)
	}
	loaded, err := m.a.load(ctx, m.file, &scenarioFlags{set: set, seed: seed, runner: j.Runner})
	if err != nil {
		return fail(err)
	}
	r, err := runners.New(j.Runner)
	if err != nil {
		return fail(err)
	}
	if err := precheck(ctx, j.Runner); err != nil {
		return fail(err)
	}
	dir := filepath.Join(m.dir, res.Dir)
	if err := clearEarlierRun(dir); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(withCode(ExitInfrastructure, err))
	}
	rec := m.tel.run()
	result, err := run.Execute(ctx, loaded.Plan, r, run.Options{
		RunDir:    dir,
		ReportDir: dir,
		Custom:    expect.CustomFunc(loaded.Custom),
		Hooks:     loaded.Hooks,
		Observer:  rec.observe(func(ev run.Event) { m.prog.observe(j.ID, ev) }),
		Logger:    m.a.engineLogger(),
	})
	if line := rec.export(loaded.Plan, result, runtrace.KeyJob.String(j.ID)); line != "" {
		m.prog.note(j.ID, line)
	}
	res.Result = result
	if err != nil {
		res = fail(err)
		if result != nil && result.Outcome != "" {
			res.Outcome = result.Outcome
		}
		return res
	}
	res.Outcome = report.OutcomePassed
	if !keepLogs() {
		// A passing job keeps its reports, configs and logs, not the chain data.
		os.RemoveAll(filepath.Join(dir, "data"))
	}
	return res
}
