package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/da"
)

func TestExecutorDispersesBlob(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	c, exe := startDACluster(t)
	m, err := c.clients[0].DAMembership(ctx(t), 0)
	if err != nil || len(m.Assignations["0"]) != 2 || len(m.Assignations["1"]) != 1 {
		t.Fatalf("membership %+v %v", m, err)
	}
	data := make([]byte, 31*8)
	for i := range data {
		data[i] = byte(i)
	}
	signer := txcodec.PublicKey(txcodec.WalletKey(7, 0))
	id, err := exe.DisperseData(ctx(t), nodeapi.DispersalRequest{ChannelID: nodeapi.Hash{5}.String(), ParentMsgID: nodeapi.Hash{}.String(), Signer: signer.String(), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	// validator-1 alone serves subnet 1: it verified and stored column 1.
	shares, err := c.clients[1].Shares(ctx(t), id)
	if err != nil || len(shares) != 1 {
		t.Fatalf("validator-1 shares: %d %v", len(shares), err)
	}
	rows, err := c.clients[1].Commitments(ctx(t), id)
	if err != nil || len(rows) == 0 || len(rows[0]) != 48 {
		t.Fatalf("commitments %v %v", rows, err)
	}
	// The blob is retrievable: the sampled column and the commitments
	// rebuild exactly the dispersed data (any half of the columns suffices).
	if got := retrieve(t, id, shares, rows); !bytes.Equal(got, data) {
		t.Fatalf("reconstructed blob differs from the dispersed data:\n got %x\nwant %x", got, data)
	}
	// The executor signs the blob tx with its leader key; Ed25519 is
	// deterministic, so the test can rebuild the tx and its hash.
	tx := txcodec.BlobTx(txcodec.DeriveKey(7, "leader", "executor-0"), nodeapi.Hash{5}, nodeapi.Hash{}, id, uint64(len(data)))
	h := txcodec.TxHash(&tx).String()
	var block string
	eventually(t, 20*time.Second, "the ChannelBlob tx in a block", func() (bool, string) {
		for i, cl := range c.clients {
			st, err := cl.TxStatus(ctx(t), []string{h})
			if err != nil || len(st) != 1 || st[0].State != nodeapi.TxInBlock {
				return false, fmt.Sprintf("node %d: %+v %v", i, st, err)
			}
			block = st[0].Block
		}
		return true, ""
	})
	b, err := c.clients[0].Block(ctx(t), block)
	if err != nil || b == nil {
		t.Fatalf("block %s: %v", block, err)
	}
	found := false
	for _, tx := range b.Transactions {
		for _, op := range tx.MantleTx.Ops {
			if p, ok := op.Blob(); ok && p.Blob == id && p.Channel == (nodeapi.Hash{5}).String() {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("block %s lacks the ChannelBlob op", block)
	}
}

// retrieve rebuilds a blob from light shares served by /da/sampling/shares
// and the row commitments served by /da/get-commitments.
func retrieve(t *testing.T, id nodeapi.BlobID, raw []json.RawMessage, rows []nodeapi.Bytes) []byte {
	t.Helper()
	commitments := make([][]byte, len(rows))
	for i, r := range rows {
		commitments[i] = r
	}
	shares := make([]da.Share, 0, len(raw))
	for _, r := range raw {
		var l da.LightShare
		if err := json.Unmarshal(r, &l); err != nil {
			t.Fatalf("decode light share %s: %v", r, err)
		}
		shares = append(shares, l.Share(id, commitments))
	}
	params, err := da.LoadDefaultParams()
	if err != nil {
		t.Fatal(err)
	}
	data, err := da.Reconstruct(params, da.Config{Columns: 2}, shares)
	if err != nil {
		t.Fatalf("reconstruct: %v", err)
	}
	return data
}

// startDACluster starts two validators and an executor and waits until the
// executor is connected to both DA peers; it returns the executor's client.
func startDACluster(t *testing.T) (*testCluster, *nodeapi.Client) {
	t.Helper()
	c := startCluster(t, clusterOpts{validators: 2, executors: 1, network: "full", slot: 200 * time.Millisecond, k: 10, f: 0.5})
	exe := c.clients[2]
	eventually(t, 20*time.Second, "DA peers connected", func() (bool, string) {
		s, err := exe.BalancerStats(ctx(t))
		return err == nil && len(s) == 2, fmt.Sprintf("%v %v", s, err)
	})
	return c, exe
}
