package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

func TestFourValidatorsAgreeOnLIB(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 4, network: "star", slot: 200 * time.Millisecond, k: 10, f: 0.5, wallets: 2})
	eventually(t, 30*time.Second, "every tip above height 14 and all Online", func() (bool, string) {
		in, err := c.infos()
		if err != nil {
			return false, err.Error()
		}
		for _, i := range in {
			lib, err := c.clients[0].Block(ctx(t), i.LIB)
			if err != nil || lib == nil {
				return false, fmt.Sprintf("lib %s unknown at node 0", i.LIB)
			}
			if i.Mode != nodeapi.ModeOnline || i.Height < 14 {
				return false, fmt.Sprintf("%+v", in)
			}
		}
		return true, ""
	})
	// Every node's LIB lies on node 0's chain: walk node 0 from its tip.
	in, _ := c.infos()
	onChain := map[string]bool{}
	id := in[0].Tip
	for {
		b, err := c.clients[0].Block(ctx(t), id)
		if err != nil || b == nil {
			t.Fatalf("block %s: %v", id, err)
		}
		onChain[id] = true
		if b.Header.Slot == 0 {
			break
		}
		id = b.Header.Parent
	}
	for i, info := range in {
		if !onChain[info.LIB] {
			t.Errorf("node %d LIB %s is not on node 0's chain", i, info.LIB)
		}
		hs, err := c.clients[i].Headers(ctx(t), "", "")
		if err != nil || len(hs) == 0 || hs[0] != info.Tip {
			t.Errorf("node %d headers %v err %v, want tip first", i, hs, err)
		}
	}
	// Blocks come from more than one leader.
	leaders := map[nodeapi.Hash]bool{}
	for id := range onChain {
		b, _ := c.clients[0].Block(ctx(t), id)
		var pol wire.ProofOfLeadership
		if err := json.Unmarshal(b.Header.ProofOfLeadership, &pol); err != nil {
			t.Fatalf("block %s: proof of leadership: %v", id, err)
		}
		if b.Header.Slot > 0 {
			leaders[pol.LeaderKey] = true
		}
	}
	if len(leaders) < 2 {
		t.Errorf("%d distinct leaders on the chain, want at least 2", len(leaders))
	}
}

func TestTransferIncludedAndVisibleEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c := startCluster(t, clusterOpts{validators: 4, network: "full", slot: 200 * time.Millisecond, k: 10, f: 0.5, wallets: 2})
	// The wallet learns its genesis note from the genesis block.
	hs, err := c.clients[0].Headers(ctx(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := c.clients[0].Block(ctx(t), hs[len(hs)-1])
	if err != nil || genesis == nil || genesis.Header.Slot != 0 {
		t.Fatalf("genesis: %v %v", genesis, err)
	}
	key := txcodec.WalletKey(7, 0)
	notes := txcodec.OwnedNotes(genesis, txcodec.PublicKey(key))
	if len(notes) != 1 || notes[0].Note.Value != 1000 {
		t.Fatalf("wallet 0 genesis notes %+v", notes)
	}
	to := txcodec.PublicKey(txcodec.WalletKey(7, 1))
	tx, err := txcodec.Transfer(key, notes, to, 300)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.clients[1].AddTx(ctx(t), tx); err != nil {
		t.Fatal(err)
	}
	h := txcodec.TxHash(&tx).String()
	var block string
	eventually(t, 20*time.Second, "tx InBlock on every node", func() (bool, string) {
		for i, cl := range c.clients {
			st, err := cl.TxStatus(ctx(t), []string{h})
			if err != nil || len(st) != 1 || st[0].State != nodeapi.TxInBlock {
				return false, fmt.Sprintf("node %d: %+v %v", i, st, err)
			}
			block = st[0].Block
		}
		return true, ""
	})
	for i, cl := range c.clients {
		b, err := cl.Block(ctx(t), block)
		if err != nil || b == nil {
			t.Fatalf("node %d: block %s: %v", i, block, err)
		}
		found := false
		for _, btx := range b.Transactions {
			found = found || txcodec.TxHash(&btx).String() == h
		}
		if !found {
			t.Errorf("node %d: block %s lacks the tx", i, block)
		}
	}
	// Spending the same note again is a double spend.
	again, _ := txcodec.Transfer(key, notes, to, 100)
	if err := c.clients[2].AddTx(ctx(t), again); err == nil {
		t.Error("double spend accepted")
	}
	st, _ := c.clients[2].TxStatus(ctx(t), []string{txcodec.TxHash(&again).String()})
	if len(st) != 1 || st[0].State != nodeapi.TxRejected {
		t.Errorf("double spend status %+v, want Rejected", st)
	}
}
