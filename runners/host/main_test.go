package host

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"

	// The reference node kind renders the nodes' configs.
	_ "github.com/nomosrun/nomosrun/nodekind/reference"
)

// simnodeBin is the reference node built once for the tests that run real
// nodes; empty when it could not be built.
var simnodeBin string

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envFakeNode) != "":
		fakeNodeMain()
	case os.Getenv(envInterruptChild) != "":
		interruptChildMain()
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "nomosrun-host-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if !testing.Short() {
		bin := filepath.Join(dir, "simnode")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/nomosrun/nomosrun/cmd/simnode")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build the reference node:", err)
			return 1
		}
		simnodeBin = bin
	}
	return m.Run()
}

// testPlan is a plan with the given validators and executors.
func testPlan(validators, executors int, slot time.Duration) *plan.Plan {
	p := &plan.Plan{Scenario: "test", Seed: 1, Topology: plan.Topology{
		Validators: validators, Executors: executors, Network: plan.NetworkStar,
		Slot: plan.Duration(slot), ActiveSlotCoeff: 0.9, SecurityParam: 3,
	}, Wallets: plan.Wallets{Count: 2, Funds: 100}}
	for i := range validators {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	for i := range executors {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("executor-%d", i), Role: plan.RoleExecutor, Index: i})
	}
	return p
}

// fakeRunner is a host runner that starts the stand-in node in mode.
func fakeRunner(t *testing.T, mode string, opts Options) *Runner {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	opts.NodeCommand = []string{exe, "node"}
	opts.WriteConfigs = writeFakeConfigs
	opts.Env = append(opts.Env, envFakeNode+"=1", "FAKE_NODE_MODE="+mode)
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// deployFake deploys n stand-in validators and tears them down at cleanup.
func deployFake(t *testing.T, r *Runner, n int) (*Cluster, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(n, 0, time.Second), RunDir: dir, ChainStart: time.Now()})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	hc := c.(*Cluster)
	t.Cleanup(func() { _ = hc.Teardown(context.Background()) })
	return hc, dir
}
