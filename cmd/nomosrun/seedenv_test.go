package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	module "github.com/nomosrun/nomosrun"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// clearSeedEnv unsets the Rust framework's variables a developer's shell may hold, so
// each test sets only its own.
func clearSeedEnv(t *testing.T) {
	for _, k := range []string{"NOMOS_DEMO_VALIDATORS", "NOMOS_DEMO_EXECUTORS", "NOMOS_DEMO_RUN_SECS",
		"LOCAL_DEMO_VALIDATORS", "LOCAL_DEMO_EXECUTORS", "LOCAL_DEMO_RUN_SECS", "COMPOSE_NODE_PAIRS",
		"NOMOS_TESTS_TRACING", "TEST_FRAMEWORK_PROMETHEUS_PORT", "RUST_LOG"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

const optInScenario = "topology(validators=1, executors=0, slot=\"1s\", from_env=True)\nexpect_liveness()\nrun(\"60s\", from_env=True)\n"

func planOf(t *testing.T, args ...string) (plan.Plan, string) {
	t.Helper()
	code, out, errOut := nomosrun(t, append([]string{"plan", "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, out)
	}
	return p, errOut
}

// NOMOS_DEMO_VALIDATORS, NOMOS_DEMO_EXECUTORS and NOMOS_DEMO_RUN_SECS set
// the shape and window of a scenario that opts in, and the plan says so.
func TestDemoVariablesShapeOptedInScenario(t *testing.T) {
	clearSeedEnv(t)
	file := write(t, "s.star", optInScenario)
	t.Setenv("NOMOS_DEMO_VALIDATORS", "3")
	t.Setenv("NOMOS_DEMO_EXECUTORS", "2")
	t.Setenv("NOMOS_DEMO_RUN_SECS", "25")
	p, errOut := planOf(t, file)
	if p.Topology.Validators != 3 || p.Topology.Executors != 2 || p.Run.Duration.String() != "25s" {
		t.Errorf("topology %d+%d run %s, want 3+2 for 25s", p.Topology.Validators, p.Topology.Executors, p.Run.Duration)
	}
	if p.Params["NOMOS_DEMO_VALIDATORS"] != "3" || p.Params["NOMOS_DEMO_RUN_SECS"] != "25" {
		t.Errorf("params %v do not record the variables", p.Params)
	}
	if strings.Contains(errOut, "warning") {
		t.Errorf("warnings for honoured variables:\n%s", errOut)
	}
}

// COMPOSE_NODE_PAIRS gives both counts; NOMOS_DEMO_* win over it and over
// the legacy LOCAL_DEMO_* names.
func TestComposeNodePairsAndPrecedence(t *testing.T) {
	clearSeedEnv(t)
	file := write(t, "s.star", optInScenario)
	t.Setenv("COMPOSE_NODE_PAIRS", "4x1")
	if p, _ := planOf(t, file); p.Topology.Validators != 4 || p.Topology.Executors != 1 {
		t.Errorf("COMPOSE_NODE_PAIRS=4x1: topology %d+%d", p.Topology.Validators, p.Topology.Executors)
	}
	t.Setenv("LOCAL_DEMO_VALIDATORS", "2")
	t.Setenv("LOCAL_DEMO_RUN_SECS", "40")
	if p, _ := planOf(t, file); p.Topology.Validators != 2 || p.Topology.Executors != 1 || p.Run.Duration.String() != "40s" {
		t.Errorf("LOCAL_DEMO_*: topology %d+%d run %s, want 2+1 for 40s", p.Topology.Validators, p.Topology.Executors, p.Run.Duration)
	}
	t.Setenv("NOMOS_DEMO_VALIDATORS", "5")
	if p, _ := planOf(t, file); p.Topology.Validators != 5 {
		t.Errorf("NOMOS_DEMO_VALIDATORS=5 over LOCAL_DEMO_VALIDATORS=2: %d validators", p.Topology.Validators)
	}
	t.Setenv("COMPOSE_NODE_PAIRS", "0x1")
	code, _, errOut := nomosrun(t, "plan", file)
	if code != ExitUsage || !strings.Contains(errOut, "COMPOSE_NODE_PAIRS=0x1: want \"VALIDATORSxEXECUTORS\"") {
		t.Errorf("COMPOSE_NODE_PAIRS=0x1: exit %d, %s", code, errOut)
	}
}

// A scenario that does not opt in keeps its shape, with one warning per
// variable that names it and the way to opt in.
func TestDemoVariablesWarnWithoutOptIn(t *testing.T) {
	clearSeedEnv(t)
	t.Setenv("NOMOS_DEMO_VALIDATORS", "5")
	t.Setenv("NOMOS_DEMO_RUN_SECS", "5")
	p, errOut := planOf(t, "../../examples/quickstart.star")
	if p.Topology.Validators != 2 || p.Run.Duration.String() != "30s" {
		t.Errorf("quickstart changed: %d validators, %s", p.Topology.Validators, p.Run.Duration)
	}
	for _, want := range []string{
		"nomosrun: warning: NOMOS_DEMO_VALIDATORS is ignored: ../../examples/quickstart.star does not opt in with topology(from_env=True)\n",
		"nomosrun: warning: NOMOS_DEMO_RUN_SECS is ignored: ../../examples/quickstart.star does not opt in with run(from_env=True)\n",
	} {
		if strings.Count(errOut, want) != 1 {
			t.Errorf("want once %q in:\n%s", want, errOut)
		}
	}
}

// An ignored variable of the Rust framework gets one warning line at start, naming it
// and why, even when several scenarios are interpreted.
func TestIgnoredVariableWarnsOnce(t *testing.T) {
	clearSeedEnv(t)
	t.Setenv("TEST_FRAMEWORK_PROMETHEUS_PORT", "9091")
	code, _, errOut := nomosrun(t, "check", "../../examples/quickstart.star", "../../examples/matrix.star")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const want = "nomosrun: warning: TEST_FRAMEWORK_PROMETHEUS_PORT is ignored: nomosrun starts no Prometheus"
	if n := strings.Count(errOut, want); n != 1 {
		t.Errorf("warning printed %d times, want once:\n%s", n, errOut)
	}
	t.Setenv("TEST_FRAMEWORK_PROMETHEUS_PORT", "")
	if _, _, errOut := nomosrun(t, "plan", "../../examples/quickstart.star"); strings.Contains(errOut, "TEST_FRAMEWORK_PROMETHEUS_PORT") {
		t.Errorf("empty variable warned about:\n%s", errOut)
	}
}

// NOMOS_TESTS_TRACING=true logs nomosrun at debug level and hands the nodes
// NOMOS_LOG_LEVEL=debug, unless NOMOS_LOG_LEVEL is set.
func TestTestsTracing(t *testing.T) {
	clearSeedEnv(t)
	t.Setenv("NOMOS_LOG_LEVEL", "")
	os.Unsetenv("NOMOS_LOG_LEVEL")
	_, _, errOut := nomosrun(t, "plan", "../../examples/quickstart.star")
	if strings.Contains(errOut, "interpreted") || os.Getenv("NOMOS_LOG_LEVEL") != "" {
		t.Fatalf("debug output without tracing:\n%s", errOut)
	}
	t.Setenv("NOMOS_TESTS_TRACING", "true")
	_, _, errOut = nomosrun(t, "plan", "../../examples/quickstart.star")
	if !strings.Contains(errOut, "interpreted") {
		t.Errorf("no debug output with NOMOS_TESTS_TRACING=true:\n%s", errOut)
	}
	if got := os.Getenv("NOMOS_LOG_LEVEL"); got != "debug" {
		t.Errorf("NOMOS_LOG_LEVEL = %q, want debug for the nodes", got)
	}
	t.Setenv("NOMOS_LOG_LEVEL", "warn")
	nomosrun(t, "plan", "../../examples/quickstart.star")
	if got := os.Getenv("NOMOS_LOG_LEVEL"); got != "warn" {
		t.Errorf("NOMOS_LOG_LEVEL = %q, want the caller's warn kept", got)
	}
}

// nomosrun demo interprets the embedded examples/demo.star; its flags win
// over the environment, which wins over the scenario's defaults.
func TestDemoShape(t *testing.T) {
	clearSeedEnv(t)
	t.Setenv("NOMOS_DEMO_VALIDATORS", "4")
	t.Setenv("NOMOS_DEMO_EXECUTORS", "0")
	shape, err := demoShape(map[string]bool{"validators": true, "secs": true}, 15, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	a := &app{stdout: io.Discard, stderr: &errOut, logger: slog.New(slog.DiscardHandler)}
	f := &scenarioFlags{set: setFlag{}, seed: 1, runner: "host", source: module.DemoScenario, shape: shape}
	res, err := a.load(context.Background(), "demo.star", f)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Plan
	if p.Topology.Validators != 2 || p.Topology.Executors != 0 || p.Run.Duration.String() != "15s" || len(p.Workloads) != 1 {
		t.Errorf("demo: topology %d+%d, run %s, %d workloads; want 2+0 for 15s, transactions only",
			p.Topology.Validators, p.Topology.Executors, p.Run.Duration, len(p.Workloads))
	}
	if p.Params["--validators"] != "2" || p.Params["NOMOS_DEMO_EXECUTORS"] != "0" {
		t.Errorf("params %v", p.Params)
	}
	if _, err := demoShape(map[string]bool{"validators": true}, 0, 0, 0); err == nil {
		t.Error("--validators 0 accepted")
	}
	if code, _, errOut := nomosrun(t, "demo", "--secs", "0"); code != ExitUsage || !strings.Contains(errOut, "--secs must be positive") {
		t.Errorf("--secs 0: exit %d, %s", code, errOut)
	}
}
