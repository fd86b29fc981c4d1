package reference

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/simnode/config"
)

func generatorPlan() *plan.Plan {
	p := &plan.Plan{
		Seed: 3,
		Topology: plan.Topology{
			Validators: 2, Executors: 1, Network: plan.NetworkStar,
			Slot: plan.Duration(time.Second), ActiveSlotCoeff: 0.9, SecurityParam: 5,
		},
		Wallets: plan.Wallets{Count: 2, Funds: 10},
	}
	// The executor comes first, to check configs follow topology order
	// although the generator numbers validators first.
	p.Topology.Nodes = []plan.Node{
		{Name: "executor-0", Role: plan.RoleExecutor, Index: 0},
		{Name: "validator-0", Role: plan.RoleValidator, Index: 0},
		{Name: "validator-1", Role: plan.RoleValidator, Index: 1},
	}
	return p
}

func TestGenerateFollowsTopologyAndPlacement(t *testing.T) {
	p := generatorPlan()
	cfgs, err := Generate(Spec{
		Plan: p, ChainStart: time.Unix(1_700_000_000, 0), KZGParamsPath: "/params",
		Place: func(i int, n plan.Node) Placement {
			return Placement{
				Addrs: config.NodeAddrs{
					API: fmt.Sprintf("10.0.0.%d:1", i), Testing: fmt.Sprintf("10.0.0.%d:2", i),
					P2PListen: "0.0.0.0:3", P2PDial: n.Name + ":3",
				},
				DataDir: "/data/" + n.Name,
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 3 {
		t.Fatalf("%d configs, want 3", len(cfgs))
	}
	for i, n := range p.Topology.Nodes {
		c := cfgs[i]
		if c.Node.Name != n.Name || c.Node.Role != string(n.Role) {
			t.Errorf("config %d is %s/%s, want %s/%s", i, c.Node.Name, c.Node.Role, n.Name, n.Role)
		}
		if got, want := c.HTTP.BackendSettings.Address, fmt.Sprintf("10.0.0.%d:1", i); got != want {
			t.Errorf("%s API address %s, want %s", n.Name, got, want)
		}
	}
	// Peers dial the names the placement gave: some config's initial peers
	// name the first validator by its dial address.
	var dialled bool
	for _, c := range cfgs {
		b, err := config.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "/dns4/validator-0/tcp/3/") {
			dialled = true
		}
	}
	if !dialled {
		t.Error("no config dials validator-0 by the name its placement gave")
	}
}

func TestGenerateReportsBadTopology(t *testing.T) {
	p := generatorPlan()
	p.Topology.Slot = 0
	_, err := Generate(Spec{Plan: p, Place: func(int, plan.Node) Placement { return Placement{} }})
	if err == nil {
		t.Fatal("a zero slot was accepted")
	}
}
