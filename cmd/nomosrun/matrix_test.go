package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/matrix"
	"github.com/nomosrun/nomosrun/internal/testenv"
)

func TestMatrixUsageErrors(t *testing.T) {
	file := write(t, "m.star", "v = param(\"validators\", 1)\ntopology(validators = v)\n")
	declared := write(t, "d.star", "v = param(\"validators\", 1)\nmatrix(validators = [1, 2])\ntopology(validators = v)\nexpect_liveness()\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{file}, "matrix: no axis; give --matrix name=v1,v2 or declare matrix(name=[...]) in the scenario"},
		{[]string{file, "--matrix", "rate=1,2"}, "matrix: axis rate: no such param (declared params: validators)"},
		{[]string{file, "--matrix", "validators=1,2", "--set", "validators=3"}, "matrix: validators is both an axis and a --set"},
		{[]string{file, "--matrix", "validators=1,1"}, `value "1" given twice`},
		{[]string{file, "--matrix", "validators=1", "--runner", "host,,k8s"}, "want a comma-separated list of distinct runners"},
		{[]string{file, "--matrix", "validators=1", "--runner", "vm"}, `unknown runner "vm"`},
		{[]string{file, "--matrix", "validators=1", "--shard", "3/2"}, "--shard \"3/2\": want i/n with 1 <= i <= n"},
		{[]string{file, "--matrix", "validators=1", "--parallel", "0"}, "--parallel 0: want at least 1"},
		{[]string{declared, "--matrix", "validators=1", "--matrix", "validators=2"}, "--matrix validators given twice"},
		{[]string{file, "--matrix", "seed=1,x"}, "matrix: seed=x: want an integer seed"},
	} {
		code, _, errOut := nomosrun(t, append([]string{"matrix"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("matrix %v: exit %d, stderr %q; want exit 2 and %q", tc.args[1:], code, errOut, tc.want)
		}
	}
}

// TestMatrixUnknownRunnerJob runs a job on a runner that cannot start (k8s
// with no kubeconfig): that job fails with the runner's error, the others
// are skipped with --fail-fast, and the exit code is the failed job's.
func TestMatrixUnknownRunnerJob(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HOME", t.TempDir())
	file := write(t, "m.star", "v = param(\"validators\", 1)\nmatrix(validators = [1, 2])\ntopology(validators = v)\nexpect_liveness()\n")
	dir := t.TempDir()
	code, out, errOut := nomosrun(t, "matrix", file, "--runner", "k8s", "--fail-fast", "--run-dir", dir)
	if code != ExitInfrastructure {
		t.Fatalf("exit %d, want 6\n%s%s", code, out, errOut)
	}
	var sum matrix.Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(b, &sum) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if len(sum.Jobs) != 2 || sum.Jobs[0].ID != "k8s-validators=1" || sum.Jobs[0].Outcome != "error" ||
		!strings.Contains(sum.Jobs[0].Error, "k8s runner is not ready") || sum.Jobs[1].Outcome != matrix.OutcomeSkipped || sum.ExitCode != 6 {
		t.Errorf("summary: %+v", sum.Jobs)
	}
	if !strings.Contains(out, "2 jobs: 1 error, 1 skipped") {
		t.Errorf("table:\n%s", out)
	}
}

// TestE2EMatrixParallel runs two jobs at once on the host runner: both pass,
// their clusters use disjoint ports and their own directories, a seed axis
// sets their seed, and the JUnit XML validates against the Jenkins schema.
func TestE2EMatrixParallel(t *testing.T) {
	needBinary(t)
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	dir := t.TempDir()
	r := runCLI(t, 3*time.Minute, nil, "matrix", "testdata/e2e/matrix.star", "--parallel", "2", "--run-dir", dir, "--matrix", "seed=7")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"job host-validators=2-slot=400ms-seed=7 started", "job host-validators=2-slot=500ms-seed=7 passed (exit 0)",
		"2 jobs: 2 passed"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, r.stdout, r.stderr)
		}
	}
	// Every listening address (host:port) belongs to one job: its own
	// loopback ports, or in netns mode its own node addresses.
	ports := map[string]string{}
	portRE := regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+):(\d+)|/ip4/([\d.]+)/tcp/(\d+)`)
	for _, id := range []string{"host-validators=2-slot=400ms-seed=7", "host-validators=2-slot=500ms-seed=7"} {
		jobDir := filepath.Join(dir, "jobs", id)
		res := readReport(t, jobDir)
		checkPassed(t, res)
		if res.Seed != 7 {
			t.Errorf("%s ran with seed %d, want 7 from the seed axis", id, res.Seed)
		}
		cfgs, _ := filepath.Glob(filepath.Join(jobDir, "configs", "*", "node.yaml"))
		if len(cfgs) != 2 {
			t.Fatalf("%s: %d node configs", id, len(cfgs))
		}
		for _, c := range cfgs {
			b, _ := os.ReadFile(c)
			own := map[string]bool{}
			for _, m := range portRE.FindAllStringSubmatch(string(b), -1) {
				own[m[1]+m[3]+":"+m[2]+m[4]] = true
			}
			for p := range own {
				if other, ok := ports[p]; ok && !strings.HasPrefix(other, id) {
					t.Errorf("address %s used by %s and %s", p, other, id)
				}
				ports[p] = id + "/" + filepath.Base(c)
			}
		}
	}
	if len(ports) < 4 {
		t.Errorf("found only %d addresses in the configs", len(ports))
	}
	xmllint, err := exec.LookPath("xmllint")
	testenv.Require(t, "xmllint (Debian package libxml2-utils)", err)
	out, err := exec.Command(xmllint, "--noout", "--schema", "../../engine/matrix/testdata/junit-10.xsd", filepath.Join(dir, "junit.xml")).CombinedOutput()
	if err != nil {
		t.Errorf("junit.xml does not validate: %v\n%s", err, out)
	}
}

// TestE2EMatrixInterrupt interrupts a matrix during its first job: that job
// is torn down and reported interrupted, the others are skipped, the
// summary is still written, and the exit code is 7.
func TestE2EMatrixInterrupt(t *testing.T) {
	needBinary(t)
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBin, "matrix", "testdata/e2e/matrix.star", "--matrix", "slot=400ms,500ms,600ms",
		"--run-dir", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the first cluster is deploying or running
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(ExitInterrupted) {
		t.Fatalf("exit: %v, want 7\n%s", err, stderr.String())
	}
	var sum matrix.Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(b, &sum) != nil {
		t.Fatalf("summary.json: %v\n%s", err, stderr.String())
	}
	if len(sum.Jobs) != 3 || sum.Jobs[0].Outcome != "interrupted" || sum.Jobs[1].Outcome != matrix.OutcomeSkipped ||
		sum.Jobs[2].Outcome != matrix.OutcomeSkipped || sum.ExitCode != 7 {
		t.Errorf("jobs: %+v\n%s", sum.Jobs, stderr.String())
	}
}
