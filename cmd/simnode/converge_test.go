package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// selfTransfers submits a self-transfer from each of wallets wallets about
// once a second, round robin over the nodes, until ctx ends. Each wallet
// spends the output of its previous transfer once a node has accepted it.
func selfTransfers(ctx context.Context, c *testCluster, wallets int) {
	hs, err := c.clients[0].Headers(ctx, nil, nil)
	if err != nil || len(hs) == 0 {
		return
	}
	genesis, err := c.clients[0].Block(ctx, hs[len(hs)-1])
	if err != nil || genesis == nil {
		return
	}
	cur := make([][]nodeapi.NoteRef, wallets)
	for w := range wallets {
		cur[w] = nodeapi.OwnedNotes(genesis, nodeapi.PublicKey(nodeapi.WalletKey(7, w)))
	}
	for round := 0; ctx.Err() == nil; round++ {
		for w := range wallets {
			key := nodeapi.WalletKey(7, w)
			tx, err := nodeapi.Transfer(key, cur[w], nodeapi.PublicKey(key), cur[w][0].Note.Value)
			if err != nil {
				continue
			}
			cl := c.clients[(round+w)%len(c.clients)]
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err = cl.AddTx(rctx, tx)
			cancel()
			if err == nil {
				cur[w] = []nodeapi.NoteRef{{ID: nodeapi.NoteID(tx.Hash(), 0), Note: tx.MantleTx.LedgerTx.Outputs[0]}}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// TestConvergesUnderTxLoad runs three validators in a star with fast slots,
// a high active slot coefficient (many forks) and a small k under a steady
// transfer load: every node must keep one chain (its LIB on every other
// node's selected chain) and keep finalising.
func TestConvergesUnderTxLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	const wallets = 10
	c := startCluster(t, clusterOpts{validators: 3, network: "star", slot: 500 * time.Millisecond, k: 3, f: 0.9, wallets: wallets})
	lctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); selfTransfers(lctx, c, wallets) }()
	defer func() { stop(); wg.Wait() }()
	time.Sleep(20 * time.Second)
	agree := func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for i := range in {
			chain := c.chainOf(t, i)
			for j := range in {
				if _, ok := chain[in[j].LIB]; in[j].Mode != nodeapi.ModeOnline || !ok {
					return false, fmt.Sprintf("node %d LIB %s not on node %d's chain: %+v", j, in[j].LIB, i, in)
				}
			}
		}
		return true, ""
	}
	eventually(t, 20*time.Second, "all LIBs on every node's chain", agree)
	start, err := c.infos()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	in, err := c.infos()
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if in[i].Height < start[i].Height+2 {
			t.Errorf("node %d height %d, was %d: the chain stalled", i, in[i].Height, start[i].Height)
		}
	}
	eventually(t, 10*time.Second, "all LIBs on every node's chain, later", agree)
}

// TestIsolatedNodeRejoinsBeyondK isolates one of three validators long
// enough for its own chain to fork deeper than k; after healing it must
// re-enter Bootstrapping, adopt the majority chain and turn Online again.
func TestIsolatedNodeRejoinsBeyondK(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 3, network: "full", slot: 200 * time.Millisecond, k: 3, f: 0.9})
	eventually(t, 20*time.Second, "all Online", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for i := range in {
			if in[i].Mode != nodeapi.ModeOnline || in[i].Height < 3 {
				return false, fmt.Sprintf("%+v", in)
			}
		}
		return true, ""
	})
	others := []string{"validator-0", "validator-1"}
	if err := c.clients[2].BlockPeers(ctx(t), others); err != nil {
		t.Fatal(err)
	}
	for _, cl := range c.clients[:2] {
		if err := cl.BlockPeers(ctx(t), []string{"validator-2"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "the isolated node's LIB off the majority chain", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		_, ok := c.chainOf(t, 0)[in[2].LIB]
		return !ok && in[0].Height > in[2].Height+3, fmt.Sprintf("%+v", in)
	})
	if err := c.clients[2].UnblockPeers(ctx(t), others); err != nil {
		t.Fatal(err)
	}
	for _, cl := range c.clients[:2] {
		if err := cl.UnblockPeers(ctx(t), []string{"validator-2"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "the isolated node back on the majority chain and Online", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		chain := c.chainOf(t, 0)
		for i := range in {
			if _, ok := chain[in[i].LIB]; !ok || in[i].Mode != nodeapi.ModeOnline {
				return false, fmt.Sprintf("node %d LIB %s off node 0's chain or not Online: %+v", i, in[i].LIB, in)
			}
		}
		return true, ""
	})
}
