package run_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/runners/host"
)

var simnode struct {
	once     sync.Once
	bin, why string
}

// buildSimnode builds the reference node once per test binary, or skips the
// test with the reason when it cannot be built.
func buildSimnode(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the reference node")
	}
	simnode.once.Do(func() {
		dir, err := os.MkdirTemp("", "engine-simnode")
		if err != nil {
			simnode.why = err.Error()
			return
		}
		bin := filepath.Join(dir, "simnode")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/nomosrun/nomosrun/cmd/simnode").CombinedOutput()
		if err != nil {
			simnode.why = fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out)))
			return
		}
		simnode.bin = bin
	})
	if simnode.bin == "" {
		t.Skipf("the reference node cannot be built: %s", simnode.why)
	}
	return simnode.bin
}

// TestExecuteReferenceNodesOnHost is the end-to-end run: real reference
// nodes on the host runner, signed transactions from the seeded wallets, a
// crash and restart, then liveness, inclusion and safety.
func TestExecuteReferenceNodesOnHost(t *testing.T) {
	bin := buildSimnode(t)
	p := testPlan()
	p.Topology.Slot = plan.Duration(time.Second)
	p.Topology.ActiveSlotCoeff = 0.5
	p.Topology.SecurityParam = 3 // LIB exists from height 4, so the lib metric can pass
	interval := time.Duration(float64(p.Topology.Slot) / p.Topology.ActiveSlotCoeff)
	window := 10 * time.Second
	p.Derived = plan.Derived{BlockInterval: plan.Duration(interval), RunDuration: plan.Duration(window),
		ExpectedBlocks: 5, Cooldown: plan.Duration(2 * interval), PlannedTxs: 10}
	p.Faults = []plan.Fault{{ID: "f1", Kind: plan.FaultKill, Targets: plan.Selector{Nodes: []string{"validator-2"}},
		At: plan.Span{Wall: plan.Duration(3 * time.Second)}, Kill: &plan.KillParams{RestartAfter: plan.Span{Wall: plan.Duration(3 * time.Second)}}}}
	p.Expectations = []plan.Expectation{
		{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Liveness: &plan.LivenessParams{Tolerance: 0.5, Lag: 4}},
		{ID: "e2", Kind: plan.ExpectTxInclusion, Name: "tx_inclusion", Inclusion: &plan.InclusionParams{MinRatio: 0.5}},
		{ID: "e3", Kind: plan.ExpectAgreement, Name: "consensus_agreement"},
		{ID: "e4", Kind: plan.ExpectMetric, Name: "lib", Metric: &plan.MetricParams{Query: "max(cryptarchia_lib_height)", Op: ">=", Value: 1}},
	}
	r, err := host.New(host.Options{NodeCommand: []string{bin}, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runExecute(t, p, r)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res.Outcome != report.OutcomePassed || res.Chain.Height == 0 || res.Workloads[0].Counts["submitted"] != 10 {
		t.Errorf("outcome %s, chain %+v, workloads %+v", res.Outcome, res.Chain, res.Workloads)
	}
}

// TestExecuteDAOnReferenceNodes disperses blobs through a reference
// executor and checks their inclusion.
func TestExecuteDAOnReferenceNodes(t *testing.T) {
	bin := buildSimnode(t)
	params, err := filepath.Abs("../../assets/kzgrs_test_params/kzgrs_test_params")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOMOS_KZGRS_PARAMS_PATH", params)
	p := testPlan()
	p.Topology.Validators, p.Topology.Executors = 2, 1
	p.Topology.Nodes = []plan.Node{{Name: "validator-0", Role: plan.RoleValidator}, {Name: "validator-1", Role: plan.RoleValidator, Index: 1},
		{Name: "executor-0", Role: plan.RoleExecutor}}
	p.Topology.Slot = plan.Duration(time.Second)
	p.Topology.ActiveSlotCoeff = 0.5
	p.Topology.SecurityParam = 2
	p.Derived = plan.Derived{BlockInterval: plan.Duration(2 * time.Second), RunDuration: plan.Duration(10 * time.Second),
		ExpectedBlocks: 5, Cooldown: plan.Duration(4 * time.Second), PlannedChannels: 1, PlannedBlobs: 2}
	p.Workloads = []plan.Workload{{ID: "w1", Kind: plan.WorkloadDA, DA: &plan.DA{ChannelRate: 1, BlobRate: 1}}}
	p.Expectations = []plan.Expectation{{ID: "e1", Kind: plan.ExpectDAInclusion, Name: "da_inclusion", Inclusion: &plan.InclusionParams{MinRatio: 0.5}}}
	r, err := host.New(host.Options{NodeCommand: []string{bin}, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runExecute(t, p, r)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if c := res.Workloads[0].Counts; c["inscribed"] != 1 || c["dispersed"] < 1 {
		t.Errorf("DA counts = %v", c)
	}
}

// TestExecuteNetworkFaultsOnReferenceNodes cuts, slows and skews reference
// nodes through their fault hooks and checks they converge after healing.
func TestExecuteNetworkFaultsOnReferenceNodes(t *testing.T) {
	bin := buildSimnode(t)
	p := testPlan()
	p.Topology.Network = plan.NetworkFull
	p.Topology.Slot = plan.Duration(time.Second)
	// Most slots have a leader: with 0.5, a 9-slot window made 2 blocks or
	// fewer about one run in eleven, below the target of 3.
	p.Topology.ActiveSlotCoeff = 0.9
	p.Topology.SecurityParam = 5
	p.Derived = plan.Derived{BlockInterval: plan.Duration(2 * time.Second), RunDuration: plan.Duration(9 * time.Second),
		ExpectedBlocks: 5, Cooldown: plan.Duration(4 * time.Second)}
	p.Workloads = nil
	sel := func(n ...string) plan.Selector { return plan.Selector{Nodes: n} }
	wall := func(d time.Duration) plan.Span { return plan.Span{Wall: plan.Duration(d)} }
	p.Faults = []plan.Fault{
		{ID: "f1", Kind: plan.FaultPartition, Partition: &plan.PartitionParams{Groups: [][]string{{"validator-0"}, {"validator-1", "validator-2"}}}, At: wall(time.Second), Duration: wall(3 * time.Second)},
		{ID: "f2", Kind: plan.FaultLatency, Targets: sel("validator-1"), Latency: &plan.LatencyParams{Delay: plan.Duration(100 * time.Millisecond), Loss: 0.1}, At: wall(5 * time.Second), Duration: wall(2 * time.Second)},
		{ID: "f3", Kind: plan.FaultClockSkew, Targets: sel("validator-2"), ClockSkew: &plan.ClockSkewParams{Offset: plan.Duration(-200 * time.Millisecond)}, At: wall(6 * time.Second)},
		{ID: "f4", Kind: plan.FaultIsolate, Targets: sel("validator-2"), At: plan.Span{Blocks: 1}, Duration: wall(time.Second)},
	}
	p.Expectations = []plan.Expectation{
		{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Liveness: &plan.LivenessParams{Tolerance: 0.5, Lag: 3}},
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
	if len(res.Faults) != 4 {
		t.Errorf("fault windows = %+v, want 4", res.Faults)
	}
	for _, f := range res.Faults {
		if f.Error != "" {
			t.Errorf("fault %s: %s", f.ID, f.Error)
		}
	}
}

func runExecute(t *testing.T, p *plan.Plan, r *host.Runner) (*report.Result, error) {
	t.Helper()
	dir := t.TempDir()
	res, err := run.Execute(context.Background(), p, r, run.Options{RunDir: dir, ReportDir: filepath.Join(dir, "report")})
	if res != nil {
		var b strings.Builder
		report.WriteText(&b, res)
		for _, ev := range res.Timeline {
			if ev.Kind == "phase" {
				fmt.Fprintf(&b, "  %s at %s\n", ev.Name, ev.At.Std().Round(time.Millisecond))
			}
		}
		t.Log("\n" + b.String())
	}
	return res, err
}
