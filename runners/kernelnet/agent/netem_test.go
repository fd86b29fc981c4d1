package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/vmtest"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

func TestMain(m *testing.M) { vmtest.Main(m) }

// TestDelayThroughTheAgent is the netem path as the Kubernetes runner takes
// it: a 200 ms delay asked of an agent shows as a 200 ms ±20% handshake,
// measured by another agent, and goes away when healed.
func TestDelayThroughTheAgent(t *testing.T) {
	n := attached(t, "a", "b")
	ctx := context.Background()
	r, err := n.Delay(ctx, "d1", []string{"a"}, 200*time.Millisecond, 0)
	if errors.Is(err, kernelnet.ErrNoNetem) && !vmtest.InGuest() {
		t.Skipf("netem path not testable on this kernel (%v); TestDelayThroughTheAgentInAKernelThatHasIt runs it under qemu", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("through the agent: %v %v", r, r.Detail)
	if r.Held != 1 {
		t.Fatalf("delay not verified: %v", r)
	}
	if _, err := n.Heal(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
}

// TestDelayThroughTheAgentInAKernelThatHasIt runs the agent's tests inside
// a distribution kernel that has netem, booted under qemu.
func TestDelayThroughTheAgentInAKernelThatHasIt(t *testing.T) {
	if vmtest.InGuest() {
		t.Skip("the host side")
	}
	vmtest.RunTests(t, vmtest.Options{Modules: vmtest.NetworkModules}, "through the agent",
		"TestDelayThroughTheAgent", "TestCutAndLossThroughTheAgent")
}
