package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// selfTransfers submits a self-transfer from each of wallets wallets about
// once a second, round robin over the nodes, until ctx ends. Each wallet
// spends the output of its previous transfer once a node has accepted it.
func selfTransfers(ctx context.Context, c *testCluster, wallets int) {
	hs, err := c.clients[0].Headers(ctx, "", "")
	if err != nil || len(hs) == 0 {
		return
	}
	genesis, err := c.clients[0].Block(ctx, hs[len(hs)-1])
	if err != nil || genesis == nil {
		return
	}
	cur := make([][]txcodec.NoteRef, wallets)
	for w := range wallets {
		cur[w] = txcodec.OwnedNotes(genesis, txcodec.PublicKey(txcodec.WalletKey(7, w)))
	}
	for round := 0; ctx.Err() == nil; round++ {
		for w := range wallets {
			key := txcodec.WalletKey(7, w)
			tx, err := txcodec.Transfer(key, cur[w], txcodec.PublicKey(key), cur[w][0].Note.Value)
			if err != nil {
				continue
			}
			cl := c.clients[(round+w)%len(c.clients)]
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err = cl.AddTx(rctx, tx)
			cancel()
			if err == nil {
				cur[w] = []txcodec.NoteRef{{ID: txcodec.NoteID(txcodec.TxHash(&tx), 0), Note: tx.MantleTx.LedgerTx.Outputs[0]}}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// TestConvergesUnderTxLoad runs three validators in a star with fast slots
// and a high active slot coefficient (many slot races) under a steady
// transfer load: every node must keep one chain (its LIB on every other
// node's selected chain) and keep finalising. An Online node never follows
// a fork deeper than k, so k is large enough that slot races between the
// three never outlast it (each further slot of a race has odds near 0.4).
func TestConvergesUnderTxLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	const wallets = 10
	c := startCluster(t, clusterOpts{validators: 3, network: "star", slot: 500 * time.Millisecond, k: 12, f: 0.9, wallets: wallets})
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

// isolateBeyondK runs three validators (with bugs switched on on every
// node once all are Online), cuts validator-2 off until each side has
// finalized its own fork (each side's LIB is off the other's chain), heals
// the cut and waits until validator-2 has its peers back. It returns the
// LIBs of the three nodes at the heal.
func isolateBeyondK(t *testing.T, rejoin bool, bugs map[string]bool) (*testCluster, []string) {
	t.Helper()
	// k = 4 and f = 0.5: slot races stay far shallower than k, while the
	// isolated node (a third of the stake) makes k+1 blocks in ~5 s.
	c := startCluster(t, clusterOpts{validators: 3, network: "full", slot: 200 * time.Millisecond, k: 4, f: 0.5, rejoin: rejoin})
	eventually(t, 20*time.Second, "all Online", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for i := range in {
			if in[i].Mode != nodeapi.ModeOnline || in[i].Height < 2 {
				return false, fmt.Sprintf("%+v", in)
			}
		}
		return true, ""
	})
	if bugs != nil {
		for _, cl := range c.clients {
			if err := cl.SetBugs(ctx(t), bugs); err != nil {
				t.Fatal(err)
			}
		}
	}
	others := []string{"validator-0", "validator-1"}
	if err := c.clients[2].BlockPeers(ctx(t), others); err != nil {
		t.Fatal(err)
	}
	for _, cl := range c.clients[:2] {
		if err := cl.BlockPeers(ctx(t), []string{"validator-2"}); err != nil {
			t.Fatal(err)
		}
	}
	var libs []string
	eventually(t, 40*time.Second, "each side's LIB off the other side's chain", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		_, isoOnMajority := c.chainOf(t, 0)[in[2].LIB]
		_, majorityOnIso := c.chainOf(t, 2)[in[0].LIB]
		libs = []string{in[0].LIB, in[1].LIB, in[2].LIB}
		return !isoOnMajority && !majorityOnIso && in[0].Height > in[2].Height+2, fmt.Sprintf("%+v", in)
	})
	if err := c.clients[2].UnblockPeers(ctx(t), others); err != nil {
		t.Fatal(err)
	}
	for _, cl := range c.clients[:2] {
		if err := cl.UnblockPeers(ctx(t), []string{"validator-2"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "validator-2 connected again", func() (bool, string) {
		ni, err := c.clients[2].NetworkInfo(ctx(t))
		return err == nil && ni.NPeers == 2, fmt.Sprintf("%+v %v", ni, err)
	})
	return c, libs
}

// TestIsolatedNodeKeepsItsLIBUntilRestart isolates one of three validators
// long enough for both sides to finalize conflicting forks. After healing,
// the isolated node stays Online on its own fork: it never follows a fork
// deeper than k and never moves its LIB back, as a real Cryptarchia node.
// Restarted, it bootstraps again and joins the majority chain.
func TestIsolatedNodeKeepsItsLIBUntilRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c, libs := isolateBeyondK(t, false, nil)
	isoLIB := libs[2]
	// Several sync rounds (every 500 ms) and many majority blocks later the
	// isolated node still holds its LIB, Online and off the majority chain.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		in, err := c.infos()
		if err != nil {
			t.Fatal(err)
		}
		majority, own := c.chainOf(t, 0), c.chainOf(t, 2)
		if _, ok := majority[in[2].LIB]; ok || in[2].Mode != nodeapi.ModeOnline {
			t.Fatalf("validator-2 left its fork without a restart: %+v", in[2])
		}
		if _, ok := own[isoLIB]; !ok {
			t.Fatalf("validator-2's LIB %s at the heal is no longer on its chain: its LIB moved back", isoLIB)
		}
		for i := range 2 {
			if _, ok := majority[libs[i]]; !ok {
				t.Fatalf("validator-%d's LIB %s at the heal left the majority chain", i, libs[i])
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	if ni, err := c.clients[2].NetworkInfo(ctx(t)); err != nil || ni.NPeers != 2 {
		t.Fatalf("validator-2 lost its peers: %+v %v", ni, err)
	}

	c.kill(2)
	c.start(2)
	c.waitNode(2)
	eventually(t, 30*time.Second, "the restarted node Online on the majority chain", func() (bool, string) {
		in, chain, msg := onMajority(t, c)
		if msg != "" {
			return false, msg
		}
		_, tipOK := chain[in[2].Tip]
		return tipOK || in[2].Height >= in[0].Height, fmt.Sprintf("%+v", in)
	})
}

// TestRejoinSwitchMovesTheLIBBack runs the same isolation with the
// testing.rejoin_below_lib switch on: after healing, the isolated node
// re-enters Bootstrapping without a restart, its LIB moves back and it
// turns Online again on the majority chain.
func TestRejoinSwitchMovesTheLIBBack(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c, libs := isolateBeyondK(t, true, nil)
	eventually(t, 20*time.Second, "the isolated node back on the majority chain and Online", func() (bool, string) {
		_, _, msg := onMajority(t, c)
		return msg == "", msg
	})
	if _, ok := c.chainOf(t, 2)[libs[2]]; ok {
		t.Errorf("validator-2's LIB %s at the heal is still on its chain: the LIB did not move back", libs[2])
	}
}

// onMajority reads every node's info and node 0's chain; msg is empty when
// every node is Online with its LIB on that chain, else it says which is not.
func onMajority(t *testing.T, c *testCluster) (in []nodeapi.Info, chain map[string]uint64, msg string) {
	in, err := c.infos()
	if err != nil {
		return nil, nil, err.Error()
	}
	chain = c.chainOf(t, 0)
	for i := range in {
		if _, ok := chain[in[i].LIB]; !ok || in[i].Mode != nodeapi.ModeOnline {
			return in, chain, fmt.Sprintf("node %d LIB %s off node 0's chain or not Online: %+v", i, in[i].LIB, in)
		}
	}
	return in, chain, ""
}
