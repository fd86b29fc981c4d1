package run_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/runners/host"
)

// buildSimnode builds the reference node, or skips the test with the reason
// when it cannot be built.
func buildSimnode(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the reference node")
	}
	bin := filepath.Join(t.TempDir(), "simnode")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nomosrun/nomosrun/cmd/simnode").CombinedOutput()
	if err != nil {
		t.Skipf("the reference node cannot be built: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return bin
}

// TestExecuteReferenceNodesOnHost is the end-to-end run: real reference
// nodes on the host runner, a crash and restart, liveness and safety.
func TestExecuteReferenceNodesOnHost(t *testing.T) {
	bin := buildSimnode(t)
	p := testPlan()
	p.Topology.Slot = plan.Duration(500 * time.Millisecond)
	p.Topology.ActiveSlotCoeff = 0.9
	p.Topology.SecurityParam = 3
	interval := time.Duration(float64(p.Topology.Slot) / p.Topology.ActiveSlotCoeff)
	window := 10 * time.Second
	p.Derived = plan.Derived{BlockInterval: plan.Duration(interval), RunDuration: plan.Duration(window),
		ExpectedBlocks: 18, Cooldown: plan.Duration(5 * interval)}
	p.Workloads = nil
	p.Faults = []plan.Fault{{ID: "f1", Kind: plan.FaultKill, Targets: plan.Selector{Nodes: []string{"validator-2"}},
		At: plan.Span{Wall: plan.Duration(2 * time.Second)}, RestartAfter: plan.Span{Wall: plan.Duration(2 * time.Second)}}}
	p.Expectations = []plan.Expectation{
		{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Tolerance: 0.5, Lag: 3},
		{ID: "e2", Kind: plan.ExpectAgreement, Name: "consensus_agreement"},
	}
	r, err := host.New(host.Options{NodeCommand: []string{bin}, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runExecute(t, p, r)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res.Outcome != report.OutcomePassed || res.Chain.Height == 0 {
		t.Errorf("outcome %s, chain %+v", res.Outcome, res.Chain)
	}
}

func runExecute(t *testing.T, p *plan.Plan, r *host.Runner) (*report.Result, error) {
	t.Helper()
	res, err := run.Execute(context.Background(), p, r, run.Options{RunDir: t.TempDir()})
	if res != nil {
		var b strings.Builder
		report.WriteText(&b, res)
		t.Log("\n" + b.String())
	}
	return res, err
}
