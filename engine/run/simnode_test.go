package run_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/runners/host"
	"github.com/nomosrun/nomosrun/simnode/config"
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

// simnodeConfigs writes reference-node configs with the node's own
// generator (a host.ConfigWriter), seeded with the plan's seed so the
// engine's wallets match the genesis notes.
func simnodeConfigs(spec host.ConfigSpec) ([]string, error) {
	t := spec.Plan.Topology
	params, _ := filepath.Abs("../../assets/kzgrs_test_params")
	cs := config.ClusterSpec{Validators: t.Validators, Executors: t.Executors, Network: t.Network,
		SlotDuration: t.Slot.Std(), ActiveSlotCoeff: t.ActiveSlotCoeff, SecurityParam: t.SecurityParam,
		ChainStart: spec.ChainStart, ProlongedBootstrap: 500 * time.Millisecond,
		Wallets: spec.Plan.Wallets.Count, WalletFunds: spec.Plan.Wallets.Funds, Seed: uint64(spec.Plan.Seed),
		KZGParamsPath: params, DataDirs: spec.DataDirs}
	for _, p := range spec.Ports {
		cs.Addrs = append(cs.Addrs, config.NodeAddrs{API: fmt.Sprintf("127.0.0.1:%d", p.API),
			Testing: fmt.Sprintf("127.0.0.1:%d", p.Testing), P2PListen: fmt.Sprintf("127.0.0.1:%d", p.P2P),
			P2PDial: fmt.Sprintf("127.0.0.1:%d", p.P2P)})
	}
	cfgs, err := config.Generate(cs)
	if err != nil {
		return nil, err
	}
	var paths []string
	for i := range cfgs {
		path := filepath.Join(spec.ConfigDir, cfgs[i].Node.Name+".yaml")
		if err := config.Write(path, &cfgs[i]); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// TestExecuteReferenceNodesOnHost is the end-to-end run: real reference
// nodes on the host runner, signed transactions from the seeded wallets, a
// crash and restart, then liveness, inclusion and safety.
func TestExecuteReferenceNodesOnHost(t *testing.T) {
	bin := buildSimnode(t)
	p := testPlan()
	p.Topology.Slot = plan.Duration(time.Second)
	p.Topology.ActiveSlotCoeff = 0.5
	p.Topology.SecurityParam = 5
	interval := time.Duration(float64(p.Topology.Slot) / p.Topology.ActiveSlotCoeff)
	window := 10 * time.Second
	p.Derived = plan.Derived{BlockInterval: plan.Duration(interval), RunDuration: plan.Duration(window),
		ExpectedBlocks: 5, Cooldown: plan.Duration(2 * interval), PlannedTxs: 10}
	p.Faults = []plan.Fault{{ID: "f1", Kind: plan.FaultKill, Targets: plan.Selector{Nodes: []string{"validator-2"}},
		At: plan.Span{Wall: plan.Duration(3 * time.Second)}, RestartAfter: plan.Span{Wall: plan.Duration(3 * time.Second)}}}
	p.Expectations = []plan.Expectation{
		{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Tolerance: 0.5, Lag: 4},
		{ID: "e2", Kind: plan.ExpectTxInclusion, Name: "tx_inclusion", MinRatio: 0.5},
		{ID: "e3", Kind: plan.ExpectAgreement, Name: "consensus_agreement"},
		{ID: "e4", Kind: plan.ExpectMetric, Name: "lib", Query: "max(cryptarchia_lib_height)", Op: ">=", Value: 1},
	}
	r, err := host.New(host.Options{NodeCommand: []string{bin}, WriteConfigs: simnodeConfigs, StopTimeout: 5 * time.Second})
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
