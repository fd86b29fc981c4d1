package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// The bugs are test-only switches that make a node break the protocol; each
// test here shows one taking effect in a running cluster.

// metric reads one unlabelled series of node i's /metrics.
func (c *testCluster) metric(t *testing.T, i int, name string) float64 {
	t.Helper()
	m, err := c.clients[i].Metrics(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %q", name, line)
			}
			return f
		}
	}
	t.Fatalf("node %d has no metric %s", i, name)
	return 0
}

// setBug switches one bug of node i and checks the read-back.
func (c *testCluster) setBug(t *testing.T, i int, name string, on bool) {
	t.Helper()
	if err := c.clients[i].SetBugs(ctx(t), map[string]bool{name: on}); err != nil {
		t.Fatal(err)
	}
	b, err := c.clients[i].Bugs(ctx(t))
	if err != nil || b[name] != on {
		t.Fatalf("node %d bugs read-back %v %v, want %s = %v", i, b, err, name, on)
	}
}

// waitHeights waits until every node is at least at height h.
func (c *testCluster) waitHeights(t *testing.T, h uint64) {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("every node at height %d", h), func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for i := range in {
			if in[i].Height < h {
				return false, fmt.Sprintf("%+v", in)
			}
		}
		return true, ""
	})
}

const produced = "cryptarchia_blocks_produced_total"

func TestBugStopProposing(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 3, network: "full", slot: 200 * time.Millisecond, k: 10, f: 0.9})
	c.waitHeights(t, 2)
	c.setBug(t, 2, nodeapi.BugStopProposing, true)
	time.Sleep(300 * time.Millisecond) // a proposal under way lands first
	mine := c.metric(t, 2, produced)
	theirs := c.metric(t, 0, produced) + c.metric(t, 1, produced)
	in, err := c.infos()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the others produce 8 blocks that validator-2 follows", func() (bool, string) {
		if got := c.metric(t, 2, produced); got != mine {
			t.Fatalf("validator-2 produced %v blocks with stop_proposing on (had %v)", got, mine)
		}
		now, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		others := c.metric(t, 0, produced) + c.metric(t, 1, produced)
		return others >= theirs+8 && now[2].Height >= in[2].Height+5,
			fmt.Sprintf("others produced %v (from %v), validator-2 height %d (from %d)", others, theirs, now[2].Height, in[2].Height)
	})
	c.setBug(t, 2, nodeapi.BugStopProposing, false)
	eventually(t, 20*time.Second, "validator-2 proposing again", func() (bool, string) {
		got := c.metric(t, 2, produced)
		return got > mine, fmt.Sprintf("produced %v", got)
	})
}

func TestBugStopApplying(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 3, network: "full", slot: 200 * time.Millisecond, k: 3, f: 0.9})
	c.waitHeights(t, 5)
	c.setBug(t, 2, nodeapi.BugStopApplying, true)
	time.Sleep(300 * time.Millisecond)
	in, err := c.infos()
	if err != nil {
		t.Fatal(err)
	}
	frozen, mine := in[2], c.metric(t, 2, produced)
	eventually(t, 20*time.Second, "the others 6 blocks ahead of the frozen node", func() (bool, string) {
		now, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		if now[2] != frozen {
			t.Fatalf("validator-2's chain moved with stop_applying on: %+v, was %+v", now[2], frozen)
		}
		return now[0].Height >= frozen.Height+6 && now[1].Height >= frozen.Height+6, fmt.Sprintf("%+v", now)
	})
	if got := c.metric(t, 2, produced); got != mine {
		t.Errorf("validator-2 produced %v blocks with stop_applying on (had %v)", got, mine)
	}
	c.setBug(t, 2, nodeapi.BugStopApplying, false)
	eventually(t, 20*time.Second, "validator-2 catches up", func() (bool, string) {
		now, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		return now[2].Height+2 >= now[0].Height && now[2].Height > frozen.Height+5, fmt.Sprintf("%+v", now)
	})
}

// TestBugRevertFinalized cuts a validator off long enough for both sides to
// finalize conflicting forks, with revert_finalized on everywhere: after
// the heal the nodes converge, and a node's LIB moves to a block that does
// not descend from its LIB at the heal (a finality reversion) while it
// stays Online.
func TestBugRevertFinalized(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c, libs := isolateBeyondK(t, false, map[string]bool{nodeapi.BugRevertFinalized: true})
	eventually(t, 20*time.Second, "one chain, with a LIB reverted", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		chain := c.chainOf(t, 0)
		for i := range in {
			if _, ok := chain[in[i].LIB]; !ok {
				return false, fmt.Sprintf("node %d LIB %s off node 0's chain: %+v", i, in[i].LIB, in)
			}
		}
		var state []string
		for i := range in {
			_, kept := c.chainOf(t, i)[libs[i]]
			if !kept && in[i].Mode == nodeapi.ModeOnline {
				t.Logf("validator-%d reverted its LIB %s (at the heal) to %s", i, libs[i], in[i].LIB)
				return true, ""
			}
			state = append(state, fmt.Sprintf("node %d keeps %s", i, libs[i]))
		}
		return false, strings.Join(state, ", ")
	})
}

func TestBugDropTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 3, network: "full", slot: 200 * time.Millisecond, k: 10, f: 0.9, wallets: 1})
	c.waitHeights(t, 1)
	hs, err := c.clients[0].Headers(ctx(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := c.clients[0].Block(ctx(t), hs[len(hs)-1])
	if err != nil || genesis == nil {
		t.Fatalf("genesis %v %v", genesis, err)
	}
	key := txcodec.WalletKey(7, 0)
	tx, err := txcodec.Transfer(key, txcodec.OwnedNotes(genesis, txcodec.PublicKey(key)), txcodec.PublicKey(key), 1000)
	if err != nil {
		t.Fatal(err)
	}
	h := txcodec.TxHash(&tx).String()
	c.setBug(t, 1, nodeapi.BugDropTransactions, true)
	if err := c.clients[1].AddTx(ctx(t), tx); err != nil {
		t.Fatalf("submit with drop_transactions: %v, want success as usual", err)
	}
	in, err := c.infos()
	if err != nil {
		t.Fatal(err)
	}
	c.waitHeights(t, in[0].Height+8)
	for i, cl := range c.clients {
		st, err := cl.TxStatus(ctx(t), []string{h})
		if err != nil || len(st) != 1 || st[0].State != nodeapi.TxUnknown {
			t.Errorf("node %d: dropped tx status %+v %v, want Unknown", i, st, err)
		}
	}
	for id := range c.chainOf(t, 0) {
		b, err := c.clients[0].Block(ctx(t), id)
		if err != nil || b == nil {
			t.Fatalf("block %s: %v", id, err)
		}
		for _, btx := range b.Transactions {
			if txcodec.TxHash(&btx).String() == h {
				t.Fatalf("the dropped tx is in block %s", id)
			}
		}
	}
	// The same tx, submitted with the bug off, is included.
	c.setBug(t, 1, nodeapi.BugDropTransactions, false)
	if err := c.clients[1].AddTx(ctx(t), tx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the tx InBlock once the bug is off", func() (bool, string) {
		st, err := c.clients[0].TxStatus(ctx(t), []string{h})
		return err == nil && len(st) == 1 && st[0].State == nodeapi.TxInBlock, fmt.Sprintf("%+v %v", st, err)
	})
}

func TestBugDropDAShares(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c, exe := startDACluster(t)
	c.setBug(t, 2, nodeapi.BugDropDAShares, true)
	data := []byte(strings.Repeat("withheld blob ", 20))
	req := nodeapi.DispersalRequest{ChannelID: nodeapi.Hash{6}.String(), ParentMsgID: nodeapi.Hash{}.String(), Signer: txcodec.PublicKey(txcodec.WalletKey(7, 0)).String(), Data: data}
	id, err := exe.DisperseData(ctx(t), req)
	if err != nil {
		t.Fatalf("dispersal with drop_da_shares: %v, want success as usual", err)
	}
	// Subnet 0 is validator-0 and executor-0, subnet 1 validator-1.
	held := func(i int) int {
		shares, err := c.clients[i].Shares(ctx(t), id)
		var se *nodeapi.StatusError
		if errors.As(err, &se) && se.Code == 500 { // "Blob index not found"
			return 0
		}
		if err != nil {
			t.Fatalf("node %d shares: %v", i, err)
		}
		return len(shares)
	}
	blobTx := txcodec.BlobTx(txcodec.DeriveKey(7, "leader", "executor-0"), nodeapi.Hash{6}, nodeapi.Hash{}, id, uint64(len(data)))
	in, err := c.infos()
	if err != nil {
		t.Fatal(err)
	}
	c.waitHeights(t, in[0].Height+5)
	for i := range c.clients {
		if n := held(i); n != 0 {
			t.Errorf("node %d holds %d shares of the dropped blob", i, n)
		}
		if rows, err := c.clients[i].Commitments(ctx(t), id); err != nil || rows != nil {
			t.Errorf("node %d commitments of the dropped blob: %v %v", i, rows, err)
		}
		st, err := c.clients[i].TxStatus(ctx(t), []string{txcodec.TxHash(&blobTx).String()})
		if err != nil || len(st) != 1 || st[0].State == nodeapi.TxInBlock {
			t.Errorf("node %d: blob tx status %+v %v, want not included", i, st, err)
		}
	}
	// The same dispersal with the bug off reaches the subnets and the chain.
	c.setBug(t, 2, nodeapi.BugDropDAShares, false)
	if again, err := exe.DisperseData(ctx(t), req); err != nil || again != id {
		t.Fatalf("dispersal: %v %v, want blob %v", again, err, id)
	}
	if held(0) != 1 || held(1) != 1 {
		t.Errorf("shares after the bug is off: validator-0 %d, validator-1 %d, want 1 each", held(0), held(1))
	}
	eventually(t, 20*time.Second, "the blob tx InBlock once the bug is off", func() (bool, string) {
		st, err := c.clients[0].TxStatus(ctx(t), []string{txcodec.TxHash(&blobTx).String()})
		return err == nil && len(st) == 1 && st[0].State == nodeapi.TxInBlock, fmt.Sprintf("%+v %v", st, err)
	})
}
