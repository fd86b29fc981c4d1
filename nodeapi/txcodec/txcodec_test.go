package txcodec

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
)

func TestWalletKeysDeterministic(t *testing.T) {
	if PublicKey(WalletKey(1, 0)) != PublicKey(WalletKey(1, 0)) {
		t.Error("same seed and index give different keys")
	}
	if PublicKey(WalletKey(1, 0)) == PublicKey(WalletKey(1, 1)) || PublicKey(WalletKey(1, 0)) == PublicKey(WalletKey(2, 0)) {
		t.Error("different wallets share a key")
	}
}

func TestTransferChange(t *testing.T) {
	k := WalletKey(5, 0)
	in := []NoteRef{{ID: nodeapi.Hash{1}, Note: nodeapi.Note{Value: 10, PK: PublicKey(k).String()}}}
	tx, err := Transfer(k, in, nodeapi.Hash{9}, 4)
	if err != nil {
		t.Fatal(err)
	}
	outs := tx.MantleTx.LedgerTx.Outputs
	if len(outs) != 2 || outs[0].Value != 4 || outs[1].Value != 6 || outs[1].PK != PublicKey(k).String() {
		t.Errorf("outputs %+v", outs)
	}
	if _, err := Transfer(k, in, nodeapi.Hash{9}, 11); err == nil {
		t.Error("overspend built")
	}
	if _, err := Transfer(WalletKey(5, 1), in, nodeapi.Hash{9}, 1); err == nil {
		t.Error("spent someone else's note")
	}
}

func TestNotesByOwnerMatchesOwnedNotes(t *testing.T) {
	a, b := PublicKey(WalletKey(1, 0)), PublicKey(WalletKey(1, 1))
	block := &nodeapi.Block{Transactions: []nodeapi.Tx{
		{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{Outputs: []nodeapi.Note{{Value: 1, PK: a.String()}, {Value: 2, PK: b.String()}, {Value: 3, PK: a.String()}}}}},
		{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{Outputs: []nodeapi.Note{{Value: 4, PK: b.String()}}}}},
	}}
	index := NotesByOwner(block)
	for _, pk := range []nodeapi.Hash{a, b} {
		want := OwnedNotes(block, pk)
		if len(want) != 2 || !reflect.DeepEqual(index[pk.String()], want) {
			t.Errorf("NotesByOwner[%s] = %v, want %v", pk, index[pk.String()], want)
		}
	}
	if n := len(index); n != 2 {
		t.Errorf("index has %d owners, want 2", n)
	}
}

func TestNoProofEncoding(t *testing.T) {
	p, _ := json.Marshal(OpProof{})
	if string(p) != `"NoProof"` {
		t.Errorf("NoProof %s", p)
	}
}
