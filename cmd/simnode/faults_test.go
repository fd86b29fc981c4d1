package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// chainOf returns the ids of node i's chain from its tip down to genesis.
func (c *testCluster) chainOf(t *testing.T, i int) map[string]uint64 {
	t.Helper()
	in, err := c.clients[i].Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	id, h := in.Tip, in.Height
	for {
		b, err := c.clients[i].Block(ctx(t), id)
		if err != nil || b == nil {
			t.Fatalf("node %d: block %s: %v", i, id, err)
		}
		out[id] = h
		if b.Header.Slot == 0 {
			return out
		}
		id, h = b.Header.Parent, h-1
	}
}

func TestPartitionForksAndHealReorganises(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 4, network: "full", slot: 200 * time.Millisecond, k: 20, f: 0.9})
	names := []string{"validator-0", "validator-1", "validator-2", "validator-3"}
	eventually(t, 20*time.Second, "all nodes connected and Online", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for i, cl := range c.clients {
			ni, err := cl.NetworkInfo(ctx(t))
			if err != nil || ni.NPeers != 3 || in[i].Mode != nodeapi.ModeOnline || in[i].Height < 3 {
				return false, fmt.Sprintf("node %d: %+v %+v %v", i, ni, in[i], err)
			}
		}
		return true, ""
	})
	// Cut {0,1} from {2,3}.
	for i, cl := range c.clients {
		other := names[2:]
		if i >= 2 {
			other = names[:2]
		}
		if err := cl.BlockPeers(ctx(t), other); err != nil {
			t.Fatal(err)
		}
	}
	f, err := c.clients[0].Faults(ctx(t))
	if err != nil || strings.Join(f.Blocked, ",") != "validator-2,validator-3" {
		t.Fatalf("faults read-back %+v %v", f, err)
	}
	var libs []string
	eventually(t, 20*time.Second, "the two halves fork", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for _, i := range in {
			libs = append(libs, i.LIB)
		}
		ni, _ := c.clients[0].NetworkInfo(ctx(t))
		a, b := c.chainOf(t, 0), c.chainOf(t, 2)
		_, bOnA := a[in[2].Tip]
		_, aOnB := b[in[0].Tip]
		return ni.NPeers == 1 && !bOnA && !aOnB && in[0].Height > 2 && in[2].Height > 2,
			fmt.Sprintf("peers %d, tips %s@%d %s@%d", ni.NPeers, in[0].Tip, in[0].Height, in[2].Tip, in[2].Height)
	})
	for i, cl := range c.clients {
		other := names[2:]
		if i >= 2 {
			other = names[:2]
		}
		if err := cl.UnblockPeers(ctx(t), other); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "one chain after healing", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for _, i := range in {
			libs = append(libs, i.LIB)
		}
		chain := c.chainOf(t, 0)
		for i := range in {
			// Every node's tip is on node 0's chain or one block ahead.
			if _, ok := chain[in[i].Tip]; !ok {
				return false, fmt.Sprintf("node %d tip %s off node 0's chain", i, in[i].Tip)
			}
		}
		return in[0].Height > 0, ""
	})
	final := c.chainOf(t, 0)
	for _, l := range libs {
		if _, ok := final[l]; !ok {
			t.Errorf("LIB %s seen during the run is not on the final chain", l)
		}
	}
	reorgs := 0
	for _, cl := range c.clients {
		m, err := cl.Metrics(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(m, "\n") {
			var v int
			if _, err := fmt.Sscanf(line, "cryptarchia_reorgs_total %d", &v); err == nil {
				reorgs += v
			}
		}
	}
	if reorgs == 0 {
		t.Error("no node reorganised after the partition healed")
	}
}

func TestKilledNodeRestartsFromDiskAndCatchesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 4, network: "star", slot: 200 * time.Millisecond, k: 10, f: 0.5})
	var before nodeapi.Info
	eventually(t, 20*time.Second, "node 3 past height 14 with a LIB", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		before = in[3]
		return in[3].Height >= 14 && in[3].Mode == nodeapi.ModeOnline, fmt.Sprintf("%+v", in[3])
	})
	c.kill(3)
	eventually(t, 20*time.Second, "the others advance", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		return in[0].Height >= before.Height+5, fmt.Sprintf("%+v", in[0])
	})
	c.start(3)
	c.waitNode(3)
	after, err := c.clients[3].Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	// The chain came back from disk before the API answered.
	if after.Height < before.Height-3 {
		t.Errorf("restarted at height %d, had %d before the kill", after.Height, before.Height)
	}
	if b, err := c.clients[3].Block(ctx(t), before.LIB); err != nil || b == nil {
		t.Errorf("LIB %s from before the kill lost: %v", before.LIB, err)
	}
	eventually(t, 20*time.Second, "node 3 catches up", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		chain := c.chainOf(t, 0)
		_, ok := chain[in[3].Tip]
		return ok && in[3].Height+2 >= in[0].Height && in[3].Mode == nodeapi.ModeOnline, fmt.Sprintf("%+v vs %+v", in[3], in[0])
	})
}

func TestClockSkewedNodeRunsAhead(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 4, network: "full", slot: 200 * time.Millisecond, k: 10, f: 0.5})
	eventually(t, 20*time.Second, "all Online", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for _, i := range in {
			if i.Mode != nodeapi.ModeOnline {
				return false, fmt.Sprintf("%+v", in)
			}
		}
		return true, ""
	})
	if err := c.clients[3].SetClockOffset(ctx(t), 4*time.Second); err != nil {
		t.Fatal(err)
	}
	if f, err := c.clients[3].Faults(ctx(t)); err != nil || f.ClockOffsetMS != 4000 {
		t.Fatalf("read-back %+v %v", f, err)
	}
	// Node 3 now lives 20 slots ahead: its blocks are from the future for
	// the others, which refuse them.
	eventually(t, 20*time.Second, "node 3's tip slot ahead of everyone", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		ahead := in[3].Slot > in[0].Slot+10 && in[3].Slot > in[1].Slot+10
		return ahead, fmt.Sprintf("slots %d %d %d %d", in[0].Slot, in[1].Slot, in[2].Slot, in[3].Slot)
	})
	in, _ := c.infos()
	if b, err := c.clients[0].Block(ctx(t), in[3].Tip); err != nil || b != nil {
		t.Errorf("node 0 took node 3's future block: %v %v", b, err)
	}
}
