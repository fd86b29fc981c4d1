package main

import (
	"strings"
	"testing"
)

// TestDoctorHost runs the real checks of the host runner on this machine.
func TestDoctorHost(t *testing.T) {
	t.Setenv("POL_PROOF_DEV_MODE", "")
	code, out, errOut := nomosrun(t, "doctor", "--runner", "host")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"ok    versions.env", "ok    node binary", "ok    KZG parameters", "ok    POL_PROOF_DEV_MODE",
		"ok    free ports", "the host runner is ready"} {
		if !strings.Contains(out, want) && !strings.Contains(out, strings.Replace(want, "    ", "  ", 1)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
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
	file := write(t, "s.star", "topology(validators = 1)\nrun(\"2s\")\n")
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
