package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/run"
)

var update = flag.Bool("update", false, "rewrite docs/builtins.md")

// nomosrun runs the CLI in-process and returns its exit code and output.
func nomosrun(t *testing.T, args ...string) (ExitCode, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func write(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanText(t *testing.T) {
	code, out, errOut := nomosrun(t, "plan", "../../examples/chaos_resilience.star")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"seed      1", "3 validators, 1 executors", "chaos_restart(min_delay=8s",
		"transactions(rate=3, users=4) -> 4 txs", "liveness(tolerance=0.8, lag=2)", "cooldown 30s"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
}

// The plan says how this machine's runner will apply network faults, and
// only when the scenario has some.
func TestPlanSaysHowNetworkFaultsApply(t *testing.T) {
	t.Setenv("NOMOS_HOST_NETWORK", "loopback")
	_, out, _ := nomosrun(t, "plan", "../../examples/partition_heal.star")
	if !strings.Contains(out, "network faults on the host runner here: by the nodes' testing API (NOMOS_HOST_NETWORK=loopback)") {
		t.Errorf("plan of a partition does not say how it applies:\n%s", out)
	}
	_, out, _ = nomosrun(t, "plan", "--runner", "k8s", "../../examples/partition_heal.star")
	if !strings.Contains(out, "by a network agent with NET_ADMIN beside each node") {
		t.Errorf("k8s plan of a partition does not name the agent:\n%s", out)
	}
	_, out, _ = nomosrun(t, "plan", "../../examples/chaos_resilience.star")
	if strings.Contains(out, "network faults on") {
		t.Errorf("a plan without network faults speaks of them:\n%s", out)
	}
}

func TestPlanJSONSeedAndSet(t *testing.T) {
	code, out, errOut := nomosrun(t, "plan", "../../examples/matrix.star", "--json", "--seed", "9", "--set", "validators=5", "--set=chaos=true")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p, err := plan.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if p.Seed != 9 || p.Topology.Validators != 5 || len(p.Workloads) != 2 {
		t.Errorf("seed %d, %d validators, %d workloads; want 9, 5, 2", p.Seed, p.Topology.Validators, len(p.Workloads))
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil || raw["derived"] == nil {
		t.Errorf("JSON lacks derived figures: %v", err)
	}
}

func TestExitCodes(t *testing.T) {
	script := write(t, "bad.star", "topology(validators=2)\nkill(\"validator-0\", at=\"zz\")\n")
	invalid := write(t, "invalid.star", "topology(validators=2)\nkill(\"validatr-1\")\nda()\nrun(\"10s\")\n")
	good := write(t, "good.star", "topology(validators=2)\nexpect_liveness()\nrun(\"10s\")\n")
	badQuery := write(t, "query.star", "topology(validators=2)\nexpect_metric(\"sum(x\", \">\", 1)\nrun(\"10s\")\n")
	vacuous := write(t, "vacuous.star", "topology(validators=2)\nrun(\"10s\")\n")
	for _, tc := range []struct {
		name string
		args []string
		code ExitCode
		want []string
		not  string
	}{
		{"script error", []string{"plan", script}, ExitScript, []string{"bad.star:2:5: kill: for parameter \"at\": invalid duration \"zz\""}, "Traceback"},
		{"backtrace with -v", []string{"plan", script, "-v"}, ExitScript, []string{"Traceback (most recent call last)"}, ""},
		{"invalid plan", []string{"plan", invalid}, ExitInvalidPlan, []string{
			"invalid.star:2:5: kill: no node \"validatr-1\" in the topology (have validator-0..validator-1); did you mean \"validator-1\"?",
			"invalid.star:3:3: da needs an executor"}, ""},
		{"malformed metric query", []string{"plan", badQuery}, ExitInvalidPlan, []string{
			`query.star:2:14: expect_metric: metric query "sum(x": want NAME`}, ""},
		{"no expectation", []string{"run", vacuous}, ExitInvalidPlan, []string{
			"vacuous.star:2:4: the scenario checks nothing", "run(..., allow_no_expectations=True)"}, "phase deploy"},
		{"unknown --set", []string{"plan", good, "--set", "x=1"}, ExitUsage, []string{"--set x: no such param"}, ""},
		{"bad --set", []string{"plan", good, "--set", "novalue"}, ExitUsage, []string{"want name=value"}, ""},
		{"unknown runner", []string{"plan", good, "--runner", "vm"}, ExitUsage, []string{`unknown runner "vm"; want one of attach, compose, host, k8s`}, ""},
		{"missing file", []string{"plan", "nope.star"}, ExitUsage, []string{"cannot read scenario"}, ""},
		{"directory", []string{"plan", "."}, ExitUsage, []string{"is a directory"}, ""},
		{"no file", []string{"plan"}, ExitUsage, []string{"want exactly one scenario file"}, ""},
		{"unknown command", []string{"frobnicate"}, ExitUsage, []string{`unknown command "frobnicate"`}, ""},
		{"no args", nil, ExitUsage, nil, ""},
		{"help", []string{"help"}, ExitOK, nil, ""},
		{"flag help", []string{"plan", "-h"}, ExitOK, nil, ""},
	} {
		code, out, errOut := nomosrun(t, tc.args...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.name, code, tc.code, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, errOut)
			}
		}
		if tc.not != "" && strings.Contains(errOut, tc.not) {
			t.Errorf("%s: stderr has %q:\n%s", tc.name, tc.not, errOut)
		}
		if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
			t.Errorf("%s: Go panic output:\n%s", tc.name, errOut)
		}
	}
}

func TestCheck(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/*.star")
	code, out, errOut := nomosrun(t, append([]string{"check"}, examples...)...)
	if code != ExitOK || strings.Count(out, "\nok ")+strings.Count(out[:3], "ok ") != len(examples) {
		t.Fatalf("check examples: exit %d\n%s%s", code, out, errOut)
	}
	bad := write(t, "bad.star", "topology(validators=0)\npause(\"x\")\n")
	code, out, _ = nomosrun(t, "check", examples[0], bad)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitInvalidPlan || len(lines) != 2 || !strings.HasPrefix(lines[1], "FAIL  "+bad+": ") ||
		!strings.Contains(lines[1], "no validators") || !strings.Contains(lines[1], "; ") {
		t.Errorf("check with a failing file: exit %d\n%s", code, out)
	}
}

func TestDocs(t *testing.T) {
	code, out, _ := nomosrun(t, "docs")
	if code != ExitOK || !strings.Contains(out, "chaos_restart(validators=True") || !strings.Contains(out, "EXPECTATIONS") {
		t.Errorf("docs: exit %d\n%s", code, out)
	}
	code, md, _ := nomosrun(t, "docs", "--markdown")
	if code != ExitOK || !strings.Contains(md, "### `expect_log`") {
		t.Errorf("docs --markdown: exit %d", code)
	}
	const page = "../../docs/builtins.md"
	if *update {
		if err := os.WriteFile(page, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := os.ReadFile(page); err != nil || string(got) != md {
		t.Errorf("%s is stale or missing (%v); run go test ./cmd/nomosrun -update", page, err)
	}
}

func TestPlanOfBinaryScriptIsScriptError(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"nul.star":   "topology(validators = 1)\n\x00run(\"1s\")\n",
		"utf8.star":  "# caf\xe9\n",
		"loads.star": "load(\"nul.star\", \"x\")\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"nul.star", "utf8.star", "loads.star"} {
		code, out, errOut := nomosrun(t, "plan", filepath.Join(dir, name))
		if code != ExitScript || !strings.Contains(errOut, "at byte offset") || !strings.Contains(errOut, "must be UTF-8 text") {
			t.Errorf("plan %s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, ExitScript, out, errOut)
		}
	}
}

func TestCodeOf(t *testing.T) {
	if codeOf(context.Canceled) != ExitInterrupted || codeOf(os.ErrPermission) != ExitInfrastructure || codeOf(nil) != ExitOK {
		t.Error("codeOf maps the generic errors wrongly")
	}
	for kind, want := range map[run.Kind]ExitCode{
		run.KindInfrastructure: ExitInfrastructure,
		run.KindExpectations:   ExitExpectations,
		run.KindInterrupted:    ExitInterrupted,
		run.KindInvalid:        ExitInvalidPlan,
	} {
		err := fmt.Errorf("wrapped: %w", &run.Error{Phase: run.PhaseReadiness, Kind: kind, Err: context.Canceled})
		if got := codeOf(err); got != want {
			t.Errorf("a run error of kind %s: exit %d, want %d", kind, got, want)
		}
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	saved := commands
	defer func() { commands = saved }()
	commands = append(commands, &command{name: "boom", raw: func(context.Context, *app, []string) error {
		var m map[string]int
		m["x"]++ // a nil-map write: a Go panic
		return nil
	}})
	code, _, errOut := nomosrun(t, "boom")
	if code != ExitInfrastructure || !strings.HasPrefix(errOut, "nomosrun: internal error: assignment to entry in nil map") ||
		strings.Contains(errOut, "goroutine") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := nomosrun(t, "version")
	if code != ExitOK || !strings.Contains(out, "image nomosrun/simnode:") || !strings.Contains(out, "kubernetes v1.37.") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
}
