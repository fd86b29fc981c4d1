package run_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/runners/fake"
)

// upPlan: two validators in a star with a workload and an expectation that
// Up must leave alone.
func upPlan() *plan.Plan {
	p := &plan.Plan{
		Scenario: "up.star", Seed: 3,
		Topology: plan.Topology{Validators: 2, Network: plan.NetworkStar, Slot: plan.Duration(time.Second),
			ActiveSlotCoeff: 1, SecurityParam: 3},
		Derived: plan.Derived{BlockInterval: plan.Duration(time.Second), RunDuration: plan.Duration(10 * time.Second)},
	}
	for i := 0; i < 2; i++ {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	p.Workloads = []plan.Workload{{ID: "w1", Kind: plan.WorkloadTransactions, Transactions: &plan.Transactions{Rate: 1}}}
	p.Expectations = []plan.Expectation{{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Liveness: &plan.LivenessParams{Tolerance: 0.8, Lag: 2}}}
	return p
}

func TestUpDeploysWaitsAndTearsDown(t *testing.T) {
	r := fake.New(fake.Options{})
	var phases []run.Phase
	d, err := run.Up(context.Background(), upPlan(), r, run.Options{
		RunDir: t.TempDir(), Clients: fake.ClientFactory, ReadinessPoll: time.Millisecond,
		Observer: func(ev run.Event) {
			if ev.Kind == run.EventPhase {
				phases = append(phases, ev.Phase)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Last()
	if len(d.Nodes) != 2 || d.Nodes[1].Name() != "validator-1" || d.Exited() == nil {
		t.Fatalf("deployment: %d nodes, exit channel %v", len(d.Nodes), d.Exited())
	}
	// Readiness asked every node for its info and peers; nothing else ran.
	asked := map[string]bool{}
	for _, call := range c.Calls() {
		if call.Op == "deploy" {
			continue
		}
		if call.Op != "info" && call.Op != "network_info" {
			t.Errorf("unexpected call before teardown: %s", call)
		}
		asked[call.Node+" "+call.Op] = true
	}
	if len(asked) != 4 {
		t.Errorf("readiness probes %v, want info and network_info on both nodes", asked)
	}
	if err := d.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Teardowns() != 1 {
		t.Errorf("%d teardowns, want 1", c.Teardowns())
	}
	if got := fmt.Sprint(phases); got != "[deploy readiness teardown]" {
		t.Errorf("phases %s", got)
	}
}

func TestUpReadinessFailureTearsDown(t *testing.T) {
	r := fake.New(fake.Options{Unready: map[string]bool{"validator-1": true}})
	_, err := run.Up(context.Background(), upPlan(), r, run.Options{
		RunDir: t.TempDir(), Clients: fake.ClientFactory,
		ReadinessTimeout: 50 * time.Millisecond, ReadinessPoll: 5 * time.Millisecond,
	})
	var re *run.Error
	if !errors.As(err, &re) || re.Phase != run.PhaseReadiness || run.KindOf(err) != run.KindInfrastructure ||
		!strings.Contains(err.Error(), "validator-1") {
		t.Fatalf("err = %v", err)
	}
	if c := r.Last(); c.Teardowns() != 1 {
		t.Errorf("%d teardowns after a failed readiness, want 1", c.Teardowns())
	}
}

func TestUpErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := run.Up(ctx, upPlan(), fake.New(fake.Options{}), run.Options{}); run.KindOf(err) != run.KindInvalid ||
		!strings.Contains(err.Error(), "run directory") {
		t.Errorf("no run dir: %v", err)
	}
	_, err := run.Up(ctx, upPlan(), fake.New(fake.Options{DeployErr: errors.New("no room")}), run.Options{RunDir: t.TempDir()})
	if run.KindOf(err) != run.KindInfrastructure || !strings.Contains(err.Error(), "deploy: no room") {
		t.Errorf("deploy error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r := fake.New(fake.Options{Unready: map[string]bool{"validator-0": true}})
	_, err = run.Up(cctx, upPlan(), r, run.Options{RunDir: t.TempDir(), Clients: fake.ClientFactory})
	if run.KindOf(err) != run.KindInterrupted || r.Last().Teardowns() != 1 {
		t.Errorf("cancelled: kind %v, err %v", run.KindOf(err), err)
	}
}
