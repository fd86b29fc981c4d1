package wire_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// TestTxcodecTxsAreTheNodesTxs: what txcodec builds in the lenient form is,
// byte for byte, the strict transaction the node reads, with the hash the
// node computes, so the signatures it carries verify.
func TestTxcodecTxsAreTheNodesTxs(t *testing.T) {
	k := txcodec.WalletKey(1, 0)
	transfer, err := txcodec.Transfer(k, []txcodec.NoteRef{{ID: nodeapi.Hash{2}, Note: nodeapi.Note{Value: 5, PK: txcodec.PublicKey(k).String()}}}, nodeapi.Hash{3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for name, tx := range map[string]nodeapi.Tx{
		"transfer":    transfer,
		"inscription": txcodec.Inscribe(k, nodeapi.Hash{1}, nodeapi.Hash{}, []byte("x")),
		"blob":        txcodec.BlobTx(k, nodeapi.Hash{1}, nodeapi.Hash{4}, nodeapi.BlobID{9}, 31),
	} {
		st, err := wire.ParseTx(tx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lenient, _ := json.Marshal(tx)
		strict, _ := json.Marshal(st)
		if !bytes.Equal(lenient, strict) {
			t.Errorf("%s encodes differently:\nlenient %s\nstrict  %s", name, lenient, strict)
		}
		if st.Hash() != txcodec.TxHash(&tx) {
			t.Errorf("%s: node hash %s, txcodec hash %s", name, st.Hash(), txcodec.TxHash(&tx))
		}
	}
}

// TestBlockThroughLenientForm: a block the node sends, read and re-sent in
// the lenient form, is the same block to the node.
func TestBlockThroughLenientForm(t *testing.T) {
	tx, _ := wire.ParseTx(txcodec.Inscribe(txcodec.WalletKey(1, 0), nodeapi.Hash{1}, nodeapi.Hash{}, []byte("x")))
	b := wire.Block{
		Header: wire.Header{Version: wire.BlockVersion, Parent: nodeapi.Hash{7}, Slot: 3, BlockRoot: wire.BlockRoot([]wire.Tx{tx}),
			ProofOfLeadership: wire.ProofOfLeadership{Proof: make(nodeapi.Bytes, wire.ProofSize), LeaderKey: nodeapi.Hash{8}}},
		Signature:    make(nodeapi.Bytes, 64),
		Transactions: []wire.Tx{tx},
	}
	sent, _ := json.Marshal(&b)
	var lenient nodeapi.Block
	if err := json.Unmarshal(sent, &lenient); err != nil {
		t.Fatal(err)
	}
	if lenient.Header.Parent != b.Header.Parent.String() {
		t.Errorf("parent %q, want %s", lenient.Header.Parent, b.Header.Parent)
	}
	again, _ := json.Marshal(&lenient)
	if !bytes.Equal(sent, again) {
		t.Errorf("re-encoded block differs:\nsent  %s\nagain %s", sent, again)
	}
	var back wire.Block
	if err := json.Unmarshal(again, &back); err != nil || back.ID() != b.ID() {
		t.Errorf("block id across the lenient form: %v", err)
	}
}
