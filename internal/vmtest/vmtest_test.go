package vmtest

import (
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// TestGuest runs in the guest: it is init, and the modules it asked for
// are loaded.
func TestGuest(t *testing.T) {
	if !InGuest() {
		t.Skip("runs as a guest's init, started by TestBootsAKernelWithModules")
	}
	if _, err := os.Stat("/sys/module/sch_netem"); err != nil {
		t.Errorf("sch_netem is not loaded: %v", err)
	}
	t.Log("guest kernel ready")
}

// TestBootsAKernelWithModules boots the kernel with TestGuest as init and
// the netem module, and checks the guest's own report of its run.
func TestBootsAKernelWithModules(t *testing.T) {
	if InGuest() {
		t.Skip("the host side")
	}
	out := Run(t, Options{Run: "^TestGuest$", Modules: []string{"sch_netem"}})
	if !strings.Contains(out, "guest kernel ready") || !strings.Contains(out, "--- PASS: TestGuest") {
		t.Errorf("the guest's output lacks its test's pass:\n%s", out)
	}
}

// A failing guest test fails the host test: the check is not a formality.
func TestModuleOrderNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := moduleOrder(dir, []string{"sch_netem"}); err == nil || !strings.Contains(err.Error(), "module sch_netem (needed by the test) is not under") {
		t.Errorf("moduleOrder of a missing module = %v", err)
	}
}
