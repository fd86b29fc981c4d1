package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/testenv"
)

// builtImages are the node images built by `nomosrun image build`, once
// per node kind and test binary, with their outcome.
var (
	builtImagesMu sync.Mutex
	builtImages   = map[string]func() error{}
)

// needImage builds the image of the node kind from this checkout once,
// with `nomosrun image build --node KIND`, so the runs use the current code.
func needImage(t *testing.T, kind string) {
	t.Helper()
	builtImagesMu.Lock()
	build, ok := builtImages[kind]
	if !ok {
		build = sync.OnceValue(func() error {
			out, err := exec.Command(e2eBin, "image", "build", "--node", kind).CombinedOutput()
			if err != nil {
				return errors.New(string(out))
			}
			return nil
		})
		builtImages[kind] = build
	}
	builtImagesMu.Unlock()
	if err := build(); err != nil {
		t.Fatalf("nomosrun image build --node %s: %v", kind, err)
	}
}

// needCompose skips (fails under CI) without a Docker engine and the Compose
// CLI, and builds the node image from this checkout once, with
// `nomosrun image build`, so the runs use the current node.
func needCompose(t *testing.T) {
	t.Helper()
	needBinary(t)
	err := exec.Command("docker", "version").Run()
	if err == nil {
		if err = exec.Command("docker", "compose", "version").Run(); err != nil {
			_, err = exec.LookPath("docker-compose")
		}
	}
	testenv.Require(t, "a Docker engine and the Compose CLI", err)
	needImage(t, "reference")
}

// runObjects lists the containers, networks and volumes of a run by label.
func runObjects(t *testing.T, runID string) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "-q", "--filter", "label=io.nomosrun.run=" + runID}
		if kind == "container" {
			args = append(args, "--all")
		}
		b, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		for _, id := range strings.Fields(string(b)) {
			out = append(out, kind+" "+id)
		}
	}
	return out
}

// composeRunID reads the run id from the Compose file in the run directory.
func composeRunID(t *testing.T, runDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("compose file: %v", err)
	}
	m := regexp.MustCompile(`io\.nomosrun\.run: (nomosrun-[0-9a-f]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no run label in %s/docker-compose.yml", runDir)
	}
	return string(m[1])
}

// TestE2EComposeExamples runs every example on the compose runner and
// asserts the same passing verdict as on the host runner, and that the run
// left nothing in the engine.
func TestE2EComposeExamples(t *testing.T) {
	needCompose(t)
	for _, file := range exampleFiles(t) {
		runExampleOn(t, "compose", file, 5*time.Minute, func(t *testing.T, dir string) {
			if left := runObjects(t, composeRunID(t, dir)); len(left) > 0 {
				t.Errorf("left in the engine after the run: %v", left)
			}
			logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
			if len(logs) == 0 {
				t.Errorf("no container logs in %s/logs", dir)
			}
		})
	}
}

// TestE2EComposeMustFail runs the liveness and safety must-fail scenarios
// on the compose runner: the same broken runs fail with the same messages.
func TestE2EComposeMustFail(t *testing.T) {
	needCompose(t)
	for _, pattern := range []string{"liveness_*", "safety_*"} {
		for _, file := range mustFailFiles(t, pattern) {
			runMustFailOn(t, "compose", file, 5*time.Minute)
		}
	}
}

// TestE2EComposeInterrupt stops a compose run with SIGINT during the drive
// phase: nomosrun exits 7 and no container, network or volume of the run
// remains.
func TestE2EComposeInterrupt(t *testing.T) {
	needCompose(t)
	var runID string
	interruptDuringDrive(t, []string{"TMPDIR=" + t.TempDir()}, 2*time.Minute, func(runDir string) {
		runID = composeRunID(t, runDir)
		// Two containers, two networks, two volumes: the check below must
		// see the stack first, or it proves nothing.
		if before := runObjects(t, runID); len(before) != 6 {
			t.Fatalf("before the interrupt the run has %v, want 2 containers, 2 networks, 2 volumes", before)
		}
	}, "run", "testdata/e2e/interrupt.star", "--runner", "compose")
	if left := runObjects(t, runID); len(left) > 0 {
		t.Fatalf("left in the engine after the interrupt: %v", left)
	}
}

// TestE2EComposeMissingImage: a run with a missing image of another tag
// than the pinned one stops before deploying and names the build command.
func TestE2EComposeMissingImage(t *testing.T) {
	needCompose(t)
	env := []string{"NOMOS_TESTNET_IMAGE=nomosrun-test/absent:0", "TMPDIR=" + t.TempDir()}
	r := runCLI(t, time.Minute, env, "run", "../../examples/quickstart.star", "--runner", "compose")
	if r.code != int(ExitInfrastructure) {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitInfrastructure, r.stderr)
	}
	out := r.stdout + r.stderr
	// The pre-run checks stop the run before anything is deployed.
	for _, want := range []string{
		"nomosrun-test/absent:0 (from NOMOS_TESTNET_IMAGE) is not in the engine",
		"fix: build it: nomosrun image build --tag nomosrun-test/absent:0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}

// TestE2EComposeV1Smoke runs the quickstart on the compose runner through
// docker-compose v1 (NOMOS_COMPOSE_CLI), which the runner still supports
// while the rest of the suite runs on the v2 plugin.
func TestE2EComposeV1Smoke(t *testing.T) {
	needCompose(t)
	out, err := exec.Command("docker-compose", "version", "--short").Output()
	if err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "1.") {
		err = errors.New("docker-compose on PATH is version " + strings.TrimSpace(string(out)))
	}
	testenv.Require(t, "docker-compose v1", err)
	dir := filepath.Join(t.TempDir(), "run")
	r := runCLI(t, 5*time.Minute, []string{"NOMOS_COMPOSE_CLI=docker-compose"}, "-v", "run", "../../examples/quickstart.star", "--runner", "compose", "--run-dir", dir)
	if r.code != int(ExitOK) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, tail(r.stderr, 40))
	}
	checkPassed(t, readReport(t, dir))
	if !strings.Contains(r.stderr, "docker-compose") {
		t.Errorf("the run does not say it used docker-compose:\n%s", tail(r.stderr, 40))
	}
	if left := runObjects(t, composeRunID(t, dir)); len(left) > 0 {
		t.Errorf("left in the engine after the run: %v", left)
	}
}
