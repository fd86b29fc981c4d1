package compose

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// testPlan is validators (and executors) with a fast slot.
func testPlan(validators, executors int, network string) *plan.Plan {
	p := &plan.Plan{
		Scenario: "compose-test", Seed: 7,
		Topology: plan.Topology{
			Validators: validators, Executors: executors, Network: network,
			Slot: plan.Duration(300 * time.Millisecond), ActiveSlotCoeff: 0.9, SecurityParam: 10,
		},
		Wallets: plan.Wallets{Count: 2, Funds: 100},
	}
	for i := range validators {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	for i := range executors {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("executor-%d", i), Role: plan.RoleExecutor, Index: i})
	}
	return p
}

func scaled(d time.Duration) time.Duration { return env.Scaled(d) }

// waitFor polls cond every 200 ms until it returns "" or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, within, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func clientOf(n runners.Node) *nodeapi.Client { return nodeapi.NewClient(n.API(), n.TestingAPI(), nil) }

// TestIsolateCutsTheNetwork isolates one of three fully connected
// validators through the Docker network: it loses every peer, receives none
// of the blocks the others make meanwhile and falls behind them; after
// Reconnect it has peers again and joins their chain.
func TestIsolateCutsTheNetwork(t *testing.T) {
	r := realRunner(t)
	ctx := context.Background()
	p := testPlan(3, 0, plan.NetworkFull)
	// The cut lasts as long as Docker takes to drop the connections. An
	// Online node never follows a fork deeper than k, so k stays far above
	// the blocks the isolated node can make meanwhile: after the reconnect
	// it can still switch to the others' longer chain.
	p.Topology.SecurityParam = 1000
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: p, RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Teardown(ctx)
	nodes := c.Nodes()
	cl := []*nodeapi.Client{clientOf(nodes[0]), clientOf(nodes[1]), clientOf(nodes[2])}
	iso := cl[2]
	waitFor(t, scaled(60*time.Second), "all connected and producing", func() string {
		for i, c := range cl {
			ni, err := c.NetworkInfo(ctx)
			in, err2 := c.Info(ctx)
			if err != nil || err2 != nil || ni.NPeers != 2 || in.Height < 3 {
				return fmt.Sprintf("node %d: peers %d height %d (%v %v)", i, ni.NPeers, in.Height, err, err2)
			}
		}
		return ""
	})

	if err := c.(runners.Isolator).Isolate(ctx, "validator-2"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, scaled(90*time.Second), "the isolated node loses every peer", func() string {
		ni, err := iso.NetworkInfo(ctx)
		if err != nil || ni.NPeers != 0 {
			return fmt.Sprintf("peers %d (%v)", ni.NPeers, err)
		}
		return ""
	})
	t.Logf("isolated node had no peer %s after the cut", time.Since(start).Round(time.Millisecond))
	isoStart, _ := iso.Info(ctx)
	others, _ := cl[0].Info(ctx)
	// The others keep extending their chain; none of it reaches the isolated node.
	waitFor(t, scaled(30*time.Second), "the others advance by 6 blocks", func() string {
		in, err := cl[0].Info(ctx)
		if err != nil || in.Height < others.Height+6 {
			return fmt.Sprintf("height %d (%v)", in.Height, err)
		}
		others = in
		return ""
	})
	isoNow, err := iso.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := iso.Block(ctx, others.Tip); err != nil || b != nil {
		t.Fatalf("the isolated node knows the others' new tip %s (err %v): it was not cut off", others.Tip, err)
	}
	if ni, _ := iso.NetworkInfo(ctx); ni.NPeers != 0 {
		t.Fatalf("the isolated node has %d peers while isolated", ni.NPeers)
	}
	t.Logf("while isolated: node went from height %d to %d on its own; the others reached %d", isoStart.Height, isoNow.Height, others.Height)

	if err := c.(runners.Isolator).Reconnect(ctx, "validator-2"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitFor(t, scaled(60*time.Second), "the reconnected node rejoins the others' chain", func() string {
		ni, err := iso.NetworkInfo(ctx)
		if err != nil || ni.NPeers == 0 {
			return fmt.Sprintf("peers %d (%v)", ni.NPeers, err)
		}
		in0, err := cl[0].Info(ctx)
		if err != nil {
			return err.Error()
		}
		b, err := iso.Block(ctx, in0.Tip)
		if err != nil || b == nil {
			return fmt.Sprintf("does not know the others' tip %s yet (%v)", in0.Tip, err)
		}
		in2, err := iso.Info(ctx)
		if err != nil || in2.Height+1 < in0.Height {
			return fmt.Sprintf("height %d vs %d (%v)", in2.Height, in0.Height, err)
		}
		return ""
	})
	t.Logf("reconnected node caught up %s after Reconnect", time.Since(start).Round(time.Millisecond))
}
