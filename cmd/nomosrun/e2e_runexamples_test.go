package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runExamplesScript runs scripts/run-examples.sh with args (it builds its
// own nomosrun from this checkout) and returns its exit code and output.
func runExamplesScript(t *testing.T, limit time.Duration, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../../scripts/run-examples.sh", args...)
	cmd.Env = append(os.Environ(), append([]string{"TMPDIR=" + t.TempDir()}, env...)...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("run-examples.sh %s did not finish within %s:\n%s", strings.Join(args, " "), limit, out)
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("run-examples.sh: %v", err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// checkDemoRun checks a passing demo run of 2 validators and 1 executor:
// its nodes, and the DA workload an executor brings.
func checkDemoRun(t *testing.T, code int, out string) {
	t.Helper()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"demo on ", "2 validators, 1 executors, 20s", "PASSED", "validator-1 ", "executor-0 ", " da ", "tx_inclusion", "liveness"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "validator-2 ") || strings.Contains(out, "executor-1 ") {
		t.Errorf("more nodes than asked for:\n%s", out)
	}
}

// TestE2ERunExamplesHost: the Rust framework's entry point runs the mixed demo on the
// host runner with the shape it is given, and the nodes write their log
// files where NOMOS_LOG_DIR says.
func TestE2ERunExamplesHost(t *testing.T) {
	needBinary(t)
	logs := t.TempDir()
	code, out := runExamplesScript(t, 10*time.Minute, []string{"NOMOS_LOG_DIR=" + logs}, "-t", "20", "-v", "2", "-e", "1", "host")
	checkDemoRun(t, code, out)
	for _, f := range []string{"nomos-node-0.log", "nomos-node-1.log", "nomos-executor-0.log"} {
		if fi, err := os.Stat(filepath.Join(logs, f)); err != nil || fi.Size() == 0 {
			t.Errorf("NOMOS_LOG_DIR: no log file %s (%v)", f, err)
		}
	}
}

// TestE2ERunExamplesCompose: the same on the compose runner, with the image
// needCompose built (NOMOS_SKIP_IMAGE_BUILD), leaving nothing in the engine.
// The nodes write their log files inside their containers (NOMOS_LOG_DIR);
// the run fails if they cannot.
func TestE2ERunExamplesCompose(t *testing.T) {
	needCompose(t)
	dir := filepath.Join(t.TempDir(), "run")
	code, out := runExamplesScript(t, 10*time.Minute, []string{"NOMOS_SKIP_IMAGE_BUILD=1", "NOMOS_LOG_DIR=/logs"},
		"-t", "20", "-v", "2", "-e", "1", "compose", "--", "--run-dir", dir)
	checkDemoRun(t, code, out)
	if !strings.Contains(out, "NOMOS_SKIP_IMAGE_BUILD: using the node image as it is") || strings.Contains(out, "building the node image") {
		t.Errorf("NOMOS_SKIP_IMAGE_BUILD not honoured:\n%s", out)
	}
	// As in the Rust framework, NOMOS_LOG_DIR is where the nodes write inside their
	// containers.
	if yml, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml")); err != nil || !strings.Contains(string(yml), "NOMOS_LOG_DIR: /logs") {
		t.Errorf("the containers do not get NOMOS_LOG_DIR (%v)", err)
	}
	if left := runObjects(t, composeRunID(t, dir)); len(left) > 0 {
		t.Errorf("left in the engine after the run: %v", left)
	}
}

// The script refuses bad arguments before building anything.
func TestRunExamplesUsage(t *testing.T) {
	for _, args := range [][]string{{"-t", "0", "host"}, {"-v", "0", "host"}, {"-e", "x", "host"}, {"nowhere"}} {
		code, out := runExamplesScript(t, time.Minute, nil, args...)
		if code != 2 || strings.Contains(out, "building nomosrun") {
			t.Errorf("run-examples.sh %v: exit %d, want 2 before any build:\n%s", args, code, out)
		}
	}
}
