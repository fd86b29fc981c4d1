package run_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/runners/host"

	// The reference node kind renders the nodes' configs.
	_ "github.com/nomosrun/nomosrun/nodekind/reference"
)

func TestMain(m *testing.M) {
	if os.Getenv(envStandIn) != "" {
		standInMain()
	}
	code := m.Run()
	if simnode.bin != "" {
		os.RemoveAll(filepath.Dir(simnode.bin))
	}
	os.Exit(code)
}

// TestExecuteOnHostRunner drives stand-in node processes through the host
// runner: real processes, signals (kill, SIGSTOP pause) and loopback HTTP,
// with the engine's default HTTP node clients.
func TestExecuteOnHostRunner(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const interval = 200 * time.Millisecond
	p := testPlan()
	p.Topology.SecurityParam = 3
	p.Derived = plan.Derived{BlockInterval: plan.Duration(interval), RunDuration: plan.Duration(4 * time.Second),
		ExpectedBlocks: 20, Cooldown: plan.Duration(time.Second)}
	p.Workloads = nil
	p.Faults = []plan.Fault{
		{ID: "f1", Kind: plan.FaultKill, Targets: plan.Selector{Nodes: []string{"validator-1"}},
			At: plan.Span{Wall: plan.Duration(time.Second)}, Kill: &plan.KillParams{RestartAfter: plan.Span{Wall: plan.Duration(time.Second)}}},
		{ID: "f2", Kind: plan.FaultPause, Targets: plan.Selector{Nodes: []string{"validator-2"}},
			At: plan.Span{Blocks: 3}, Duration: plan.Span{Wall: plan.Duration(time.Second)}},
		{ID: "f3", Kind: plan.FaultPartition, Partition: &plan.PartitionParams{Groups: [][]string{{"validator-0"}, {"validator-1", "validator-2"}}},
			At: plan.Span{Wall: plan.Duration(2500 * time.Millisecond)}, Duration: plan.Span{Blocks: 2}},
	}
	p.Expectations = []plan.Expectation{
		{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Liveness: &plan.LivenessParams{Tolerance: 0.8, Lag: 2}},
		{ID: "e2", Kind: plan.ExpectAgreement, Name: "consensus_agreement"},
		{ID: "e3", Kind: plan.ExpectMetric, Name: "tip", Metric: &plan.MetricParams{Query: "min(cryptarchia_tip_height)", Op: ">=", Value: 20}},
		{ID: "e4", Kind: plan.ExpectLog, Name: "partition logged", Log: &plan.LogParams{Pattern: `validator-0 peers \[peer-validator-1 peer-validator-2\] blocked=true`,
			Targets: plan.Selector{Nodes: []string{"validator-0"}}}},
	}
	// The stand-ins listen on loopback and log the node-hook partition.
	r, err := host.New(host.Options{NodeCommand: []string{exe}, Env: []string{envStandIn + "=1"},
		WriteConfigs: standInConfigs(interval, run.ExpectedPeers(p.Topology)), StartTimeout: 10 * time.Second,
		Network: host.NetworkLoopback})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	dir := t.TempDir()
	res, err := run.Execute(context.Background(), p, r, run.Options{RunDir: dir, Observer: rec.observe,
		Settle: 300 * time.Millisecond, FeedInterval: 200 * time.Millisecond})
	var summary strings.Builder
	report.WriteText(&summary, res)
	t.Log("\n" + summary.String())
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res.Outcome != report.OutcomePassed || len(res.Expectations) != 4 {
		t.Fatalf("result %s, expectations %+v", res.Outcome, res.Expectations)
	}
	var windows []string
	for _, f := range res.Faults {
		windows = append(windows, string(f.Kind))
		if f.End <= f.Start {
			t.Errorf("fault %s window %v..%v not healed", f.ID, f.Start, f.End)
		}
	}
	if got := strings.Join(windows, ","); len(res.Faults) != 3 {
		t.Errorf("fault windows = %s, want kill, pause and partition", got)
	}
	if res.Chain.Height < 20 || len(res.Heights) == 0 {
		t.Errorf("chain = %+v with %d height samples", res.Chain, len(res.Heights))
	}
	if _, err := os.Stat(dir + "/logs/validator-0.log"); err != nil {
		t.Errorf("node logs: %v", err)
	}
	if err := report.WriteDir(res, dir+"/report"); err != nil {
		t.Error(err)
	}
}
