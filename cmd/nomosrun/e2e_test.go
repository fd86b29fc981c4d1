package main

// End-to-end tests: the nomosrun binary is built once and run exactly as a
// user runs it, on the host runner with real reference-node processes on
// loopback. They are slow (minutes), so -short skips them.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
)

// e2eBin is the nomosrun binary built by TestMain ("" under -short).
var e2eBin string

// e2eSlots bounds how many scenarios run at once: each one is a cluster of
// node processes and the machine has two cores, but the scenarios mostly
// wait on protocol time (the load stays under 2 with 4 at once).
var e2eSlots = make(chan struct{}, 5)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "nomosrun-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "nomosrun")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: build nomosrun:", err)
			return 1
		}
		e2eBin = bin
	}
	return m.Run()
}

// needBinary skips end-to-end tests under -short.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() || e2eBin == "" {
		t.Skip("end-to-end test runs real node clusters for minutes; skipped with -short")
	}
}

// e2eRun is the outcome of one nomosrun invocation.
type e2eRun struct {
	code           int
	stdout, stderr string
	wall           time.Duration
}

// runCLI runs the binary with args and waits for it (at most limit).
func runCLI(t *testing.T, limit time.Duration, env []string, args ...string) e2eRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := e2eRun{stdout: out.String(), stderr: errOut.String(), wall: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("nomosrun %s did not finish within %s:\n%s", strings.Join(args, " "), limit, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("nomosrun %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// readReport decodes DIR/report.json.
func readReport(t *testing.T, dir string) *report.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("report.json: %v", err)
	}
	var res report.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return &res
}

// TestE2EExamples runs every example on the host runner and asserts a
// passing verdict backed by real samples.
func TestE2EExamples(t *testing.T) {
	needBinary(t)
	for _, file := range exampleFiles(t) {
		runExampleOn(t, "host", file, 5*time.Minute, nil)
	}
}

// exampleFiles returns the example scenarios.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	return files
}

// runExampleOn runs one example on runner as a parallel subtest holding an
// e2e slot, asserts a passing verdict backed by real samples, then calls
// after (when set) with the run directory for runner-specific checks.
func runExampleOn(t *testing.T, runner, file string, timeout time.Duration, after func(t *testing.T, dir string)) {
	name := strings.TrimSuffix(filepath.Base(file), ".star")
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		e2eSlots <- struct{}{}
		defer func() { <-e2eSlots }()
		dir := filepath.Join(t.TempDir(), "run")
		r := runCLI(t, timeout, nil, "run", file, "--runner", runner, "--run-dir", dir)
		t.Logf("%s on %s: exit %d in %s", name, runner, r.code, r.wall.Round(time.Second))
		if r.code != int(ExitOK) {
			t.Fatalf("exit %d, want 0 (run dir %s)\nstdout:\n%s\nstderr:\n%s", r.code, dir, r.stdout, tail(r.stderr, 40))
		}
		res := readReport(t, dir)
		checkPassed(t, res)
		t.Logf("%s: verdict %s, chain height %d, %d blocks, %d txs, %d expectations, wall %s",
			name, res.Outcome, res.Chain.Height, res.Chain.Blocks, res.Chain.Transactions, len(res.Expectations), r.wall.Round(time.Second))
		if after != nil {
			after(t, dir)
		}
	})
}

// checkPassed asserts a passing report whose figures show real progress.
func checkPassed(t *testing.T, res *report.Result) {
	t.Helper()
	if res.Outcome != report.OutcomePassed || res.Error != "" {
		t.Errorf("outcome %q (%s), want passed", res.Outcome, res.Error)
	}
	if len(res.Expectations) == 0 {
		t.Error("report has no expectations")
	}
	for _, e := range res.Expectations {
		if !e.Passed {
			t.Errorf("expectation %s (%s) failed: %s", e.Name, e.Pos, e.Message)
		}
	}
	if res.Chain.Height == 0 || res.Chain.Blocks == 0 {
		t.Errorf("chain height %d, %d blocks; want both > 0", res.Chain.Height, res.Chain.Blocks)
	}
	if len(res.Nodes) == 0 {
		t.Error("report lists no nodes")
	}
	for _, n := range res.Nodes {
		if n.Height == 0 {
			t.Errorf("node %s ended at height 0", n.Name)
		}
	}
	if res.Hooks != nil {
		for _, h := range res.Hooks.Hooks {
			if h.Calls == 0 {
				t.Errorf("hook %s (%s %s) was never called", h.ID, h.Kind, h.Func)
			}
		}
	}
	for _, w := range res.Workloads {
		switch w.Kind {
		case plan.WorkloadTransactions:
			if w.Counts["submitted"] == 0 {
				t.Errorf("workload %s submitted no transactions: %v", w.ID, w.Counts)
			}
			// expect_tx_inclusion's default ratio: at least half of the
			// submitted transactions are on the chain.
			if sub := w.Counts["submitted"]; res.Chain.Transactions*2 < sub {
				t.Errorf("workload %s submitted %d transactions but the chain holds %d", w.ID, sub, res.Chain.Transactions)
			}
			if !hasPassed(res, plan.ExpectTxInclusion) {
				t.Errorf("workload %s has no passing tx inclusion expectation", w.ID)
			}
		case plan.WorkloadDA:
			if w.Counts["included"] == 0 {
				t.Errorf("DA workload %s had no blob included: %v", w.ID, w.Counts)
			}
			if !hasPassed(res, plan.ExpectDAInclusion) {
				t.Errorf("DA workload %s has no passing DA inclusion expectation", w.ID)
			}
		}
	}
}

// hasPassed reports whether res holds a passed expectation of kind k.
func hasPassed(res *report.Result, k plan.ExpectKind) bool {
	for _, e := range res.Expectations {
		if e.Kind == k && e.Passed {
			return true
		}
	}
	return false
}

// TestE2EFailingScenarios asserts the exit codes and messages of scenarios
// that must fail: a partition leaving no majority, a script error, an invalid plan.
func TestE2EFailingScenarios(t *testing.T) {
	needBinary(t)
	t.Run("script error", func(t *testing.T) {
		r := runCLI(t, time.Minute, nil, "run", "testdata/e2e/script_error.star")
		if r.code != int(ExitScript) {
			t.Fatalf("exit %d, want %d\n%s", r.code, ExitScript, r.stderr)
		}
		if !strings.Contains(r.stderr, "script_error.star:3:5:") || strings.Contains(r.stderr, "Traceback") {
			t.Errorf("want a file:line:col message and no traceback, got:\n%s", r.stderr)
		}
	})
	t.Run("hook error", func(t *testing.T) {
		r := runCLI(t, time.Minute, nil, "-v", "run", "testdata/e2e/hook_error.star")
		if r.code != int(ExitScript) {
			t.Fatalf("exit %d, want %d\n%s", r.code, ExitScript, r.stderr)
		}
		out := r.stdout + r.stderr
		for _, want := range []string{"hook_error.star:4:17: hook h1 (on_block check): fail: height 3 reached",
			"Traceback (most recent call last)", "phase teardown"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("invalid plan", func(t *testing.T) {
		r := runCLI(t, time.Minute, nil, "run", "testdata/e2e/invalid_plan.star")
		if r.code != int(ExitInvalidPlan) {
			t.Fatalf("exit %d, want %d\n%s", r.code, ExitInvalidPlan, r.stderr)
		}
		for _, want := range []string{"invalid_plan.star:3:6:", "validator-7"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})
}

// TestE2EMustFail runs every scenario of examples/must_fail on the host
// runner: each breaks the property its expectation checks (a frozen
// majority, a stuck node, a finalized fork, dropped transactions, ...), so
// each must exit 5 with the messages its "# want:" lines name.
func TestE2EMustFail(t *testing.T) {
	needBinary(t)
	for _, file := range mustFailFiles(t, "*") {
		if !isCometBFT(file) {
			runMustFailOn(t, "host", file, 4*time.Minute)
		}
	}
}

// mustFailFiles returns the must-fail scenarios whose names match pattern
// ("*" for all).
func mustFailFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/must_fail/" + pattern + ".star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no must-fail scenarios found: %v", err)
	}
	return files
}

// wantedFailures reads the "# want: TEXT" lines of a must-fail scenario.
func wantedFailures(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, line := range strings.Split(string(src), "\n") {
		if w, ok := strings.CutPrefix(line, "# want: "); ok {
			wants = append(wants, strings.TrimSpace(w))
		}
	}
	if len(wants) == 0 {
		t.Fatalf("%s has no \"# want:\" line naming the failure it must show", file)
	}
	return wants
}

// runMustFailOn runs one must-fail scenario on runner as a parallel subtest
// holding an e2e slot and asserts exit 5, a failed verdict in report.json
// and every wanted message in the terminal summary.
func runMustFailOn(t *testing.T, runner, file string, timeout time.Duration) {
	name := strings.TrimSuffix(filepath.Base(file), ".star")
	wants := wantedFailures(t, file)
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		e2eSlots <- struct{}{}
		defer func() { <-e2eSlots }()
		dir := filepath.Join(t.TempDir(), "run")
		r := runCLI(t, timeout, nil, "run", file, "--runner", runner, "--run-dir", dir)
		t.Logf("%s on %s: exit %d in %s", name, runner, r.code, r.wall.Round(time.Second))
		if r.code != int(ExitExpectations) {
			t.Fatalf("exit %d, want %d (run dir %s)\nstdout:\n%s\nstderr:\n%s", r.code, ExitExpectations, dir, r.stdout, tail(r.stderr, 40))
		}
		res := readReport(t, dir)
		if res.Outcome != report.OutcomeFailed || len(res.Failed()) == 0 {
			t.Errorf("outcome %q with %d failed expectations, want failed", res.Outcome, len(res.Failed()))
		}
		for _, w := range wants {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("the summary lacks %q:\n%s", w, r.stdout)
			}
		}
		for _, e := range res.Failed() {
			if e.Summary == "" && e.Evidence == nil {
				t.Errorf("failed expectation %s carries no evidence", e.Name)
			}
		}
	})
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
