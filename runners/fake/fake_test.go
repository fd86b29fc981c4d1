package fake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

func testPlan() *plan.Plan {
	return &plan.Plan{Seed: 5, Topology: plan.Topology{Validators: 2, Network: plan.NetworkStar, SecurityParam: 2,
		Nodes: []plan.Node{{Name: "validator-0", Role: plan.RoleValidator}, {Name: "validator-1", Role: plan.RoleValidator, Index: 1}}},
		Derived: plan.Derived{BlockInterval: plan.Duration(time.Second)}}
}

func TestChainGrowsWithTheClockAndFaultsFreezeNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(Options{})
		rc, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan()})
		if err != nil {
			t.Fatal(err)
		}
		c := rc.(*Cluster)
		ctx := context.Background()
		v0, v1 := c.Node("validator-0"), c.Node("validator-1")
		v0.AddTx(ctx, nodeapi.Tx{})
		time.Sleep(3 * time.Second)
		in, err := v0.Info(ctx)
		if err != nil || in.Height != 3 {
			t.Fatalf("info = %+v, %v; want height 3 after 3 s", in, err)
		}
		b, _ := v0.Block(ctx, in.Tip)
		first, _ := v0.Block(ctx, c.chain[1].id)
		if b == nil || b.Header.Parent != c.chain[2].id || len(first.Transactions) != 1 {
			t.Errorf("tip block = %+v, first block txs = %d", b, len(first.Transactions))
		}
		if in.LIB != c.chain[1].id {
			t.Errorf("LIB = %s, want the block k=2 below the tip", in.LIB)
		}
		v1.BlockPeers(ctx, []string{"peer-validator-0"})
		time.Sleep(2 * time.Second)
		if in, _ := v1.Info(ctx); in.Height != 3 {
			t.Errorf("cut-off node at %d, want frozen at 3", in.Height)
		}
		v1.UnblockPeers(ctx, []string{"peer-validator-0"})
		if in, _ := v1.Info(ctx); in.Height != 5 {
			t.Errorf("healed node at %d, want caught up at 5", in.Height)
		}
		c.Kill(ctx, "validator-1")
		if _, err := v1.Info(ctx); err == nil {
			t.Error("killed node answers")
		}
		c.Start(ctx, "validator-1")
		if ni, _ := v0.NetworkInfo(ctx); ni.NPeers != 1 {
			t.Errorf("hub peers = %d, want 1", ni.NPeers)
		}
		c.Teardown(ctx)
		if c.Teardowns() != 1 || !strings.Contains(strings.Join(c.CallLog("kill", "start", "teardown"), ";"), "validator-1 kill;validator-1 start;teardown") {
			t.Errorf("calls = %v", c.CallLog("kill", "start", "teardown"))
		}
	})
}

func TestDeployError(t *testing.T) {
	r := New(Options{DeployErr: errors.New("boom")})
	if _, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan()}); err == nil || r.Last() != nil {
		t.Errorf("err = %v, last = %v", err, r.Last())
	}
}
