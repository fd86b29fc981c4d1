package nodeapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestHashEncoding(t *testing.T) {
	h := Hash{0xab, 0x01}
	b, _ := json.Marshal(h)
	want := `"ab01` + strings.Repeat("0", 60) + `"`
	if string(b) != want {
		t.Errorf("hash JSON %s", b)
	}
	var back Hash
	if err := json.Unmarshal([]byte(`"0x`+want[1:]), &back); err != nil || back != h {
		t.Errorf("0x input: %v %v", back, err)
	}
	for _, bad := range []string{`"ab"`, `"zz` + strings.Repeat("0", 62) + `"`, `5`} {
		if json.Unmarshal([]byte(bad), &back) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestByteArrays(t *testing.T) {
	b, _ := json.Marshal(BlobID{1, 255})
	if !strings.HasPrefix(string(b), "[1,255,0,") {
		t.Errorf("blob id %s", b)
	}
	var id BlobID
	if json.Unmarshal([]byte(`[1,2]`), &id) == nil {
		t.Error("short blob id accepted")
	}
	var bs Bytes
	if json.Unmarshal([]byte(`[256]`), &bs) == nil {
		t.Error("out of range byte accepted")
	}
	p, _ := json.Marshal(OpProof{})
	if string(p) != `"NoProof"` {
		t.Errorf("NoProof %s", p)
	}
}

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
	in := []NoteRef{{ID: Hash{1}, Note: Note{Value: 10, PK: PublicKey(k)}}}
	tx, err := Transfer(k, in, Hash{9}, 4)
	if err != nil {
		t.Fatal(err)
	}
	outs := tx.MantleTx.LedgerTx.Outputs
	if len(outs) != 2 || outs[0].Value != 4 || outs[1].Value != 6 || outs[1].PK != PublicKey(k) {
		t.Errorf("outputs %+v", outs)
	}
	if _, err := Transfer(k, in, Hash{9}, 11); err == nil {
		t.Error("overspend built")
	}
	if _, err := Transfer(WalletKey(5, 1), in, Hash{9}, 1); err == nil {
		t.Error("spent someone else's note")
	}
}

func TestNotesByOwnerMatchesOwnedNotes(t *testing.T) {
	a, b := PublicKey(WalletKey(1, 0)), PublicKey(WalletKey(1, 1))
	block := &Block{Transactions: []Tx{
		{MantleTx: MantleTx{LedgerTx: LedgerTx{Outputs: []Note{{Value: 1, PK: a}, {Value: 2, PK: b}, {Value: 3, PK: a}}}}},
		{MantleTx: MantleTx{LedgerTx: LedgerTx{Outputs: []Note{{Value: 4, PK: b}}}}},
	}}
	index := NotesByOwner(block)
	for _, pk := range []Hash{a, b} {
		want := OwnedNotes(block, pk)
		if len(want) != 2 || !reflect.DeepEqual(index[pk], want) {
			t.Errorf("NotesByOwner[%s] = %v, want %v", pk, index[pk], want)
		}
	}
	if n := len(index); n != 2 {
		t.Errorf("index has %d owners, want 2", n)
	}
}
