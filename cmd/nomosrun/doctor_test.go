package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/internal/testenv"
)

// TestDoctorHost runs the real checks of the host runner on this machine.
func TestDoctorHost(t *testing.T) {
	t.Setenv("POL_PROOF_DEV_MODE", "")
	code, out, errOut := nomosrun(t, "doctor", "--runner", "host")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"versions.env", "node binary", "KZG parameters", "POL_PROOF_DEV_MODE", "free ports"} {
		if !checkLine(out, "ok", name) {
			t.Errorf("output lacks an ok line for %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "the host runner is ready") {
		t.Errorf("output:\n%s", out)
	}
}

// TestDoctorAndRunStopOnFailedCheck breaks a prerequisite: doctor exits 6
// with the fix, and run stops before deploying with the same text.
func TestDoctorAndRunStopOnFailedCheck(t *testing.T) {
	t.Setenv("POL_PROOF_DEV_MODE", "false")
	const fix = "fix: export POL_PROOF_DEV_MODE=true (or unset it): without dev mode every node generates real proofs and runs time out"
	code, out, _ := nomosrun(t, "doctor")
	if code != ExitInfrastructure || !strings.Contains(out, "FAIL  POL_PROOF_DEV_MODE  POL_PROOF_DEV_MODE=false") || !strings.Contains(out, fix) {
		t.Errorf("doctor: exit %d\n%s", code, out)
	}
	file := write(t, "s.star", "topology(validators = 1)\nexpect_liveness()\nrun(\"2s\")\n")
	code, _, errOut := nomosrun(t, "run", file)
	if code != ExitInfrastructure || !strings.Contains(errOut, "the host runner is not ready:\n  POL_PROOF_DEV_MODE: POL_PROOF_DEV_MODE=false\n    "+fix) {
		t.Errorf("run: exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, "phase deploy") {
		t.Errorf("run deployed despite the failed check:\n%s", errOut)
	}
}

func TestDoctorUsage(t *testing.T) {
	if code, _, errOut := nomosrun(t, "doctor", "--runner", "vm"); code != ExitUsage || !strings.Contains(errOut, `unknown runner "vm"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if code, _, _ := nomosrun(t, "doctor", "extra"); code != ExitUsage {
		t.Errorf("exit %d for an extra argument", code)
	}
}

// TestDoctorRealEngines runs doctor against the real Docker engine (compose)
// and the real cluster of the kubeconfig (k8s): every check those runners
// need passes where CI provides them.
func TestDoctorRealEngines(t *testing.T) {
	t.Setenv("POL_PROOF_DEV_MODE", "")
	for _, tc := range []struct{ runner, what, want string }{
		{"compose", "a Docker engine and a Compose CLI (tools/ci.d/10-docker.sh)", "Docker engine"},
		{"k8s", "a Kubernetes cluster (KUBECONFIG; tools/k8s/up.sh)", "cluster"},
	} {
		t.Run(tc.runner, func(t *testing.T) {
			code, out, errOut := nomosrun(t, "doctor", "--runner", tc.runner)
			var err error
			if code != ExitOK {
				err = fmt.Errorf("doctor --runner %s: exit %d\n%s%s", tc.runner, code, out, errOut)
			}
			testenv.Require(t, tc.what, err)
			if !checkLine(out, "ok", tc.want) || !strings.Contains(out, "the "+tc.runner+" runner is ready") {
				t.Errorf("output:\n%s", out)
			}
		})
	}
}

// checkLine reports whether out has a line "MARK  NAME  detail".
func checkLine(out, mark, name string) bool {
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, mark+" "); ok && strings.HasPrefix(strings.TrimSpace(rest), name+"  ") {
			return true
		}
	}
	return false
}
