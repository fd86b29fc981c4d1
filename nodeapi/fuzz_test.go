package nodeapi

import (
	"encoding/json"
	"testing"
)

func FuzzDecodeTx(f *testing.F) {
	k := WalletKey(1, 0)
	tx := Inscribe(k, Hash{1}, Hash{}, []byte("x"))
	b, _ := json.Marshal(tx)
	f.Add(b)
	tr, _ := Transfer(k, []NoteRef{{ID: Hash{2}, Note: Note{Value: 5, PK: PublicKey(k)}}}, Hash{3}, 2)
	b, _ = json.Marshal(tr)
	f.Add(b)
	f.Add([]byte(`{"mantle_tx":{"ops":[]},"ops_proofs":[{"Ed25519Sig":[1]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tx Tx
		if json.Unmarshal(data, &tx) != nil {
			return
		}
		h := tx.Hash()
		// A decoded tx re-encodes to a form with the same hash.
		again, err := json.Marshal(tx)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var tx2 Tx
		if err := json.Unmarshal(again, &tx2); err != nil {
			t.Fatalf("decode re-encoded %s: %v", again, err)
		}
		if tx2.Hash() != h {
			t.Fatalf("hash changed across a round trip")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	b := Block{Header: Header{Version: BlockVersion, Slot: 3, ProofOfLeadership: ProofOfLeadership{Proof: make(Bytes, ProofSize)}}, Signature: make(Bytes, 64)}
	data, _ := json.Marshal(b)
	f.Add(data)
	f.Add([]byte(`{"header":{"parent_block":"0x` + Hash{}.String() + `"},"signature":[300]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Block
		if json.Unmarshal(data, &b) != nil {
			return
		}
		id := b.ID()
		again, err := json.Marshal(&b)
		if err != nil {
			t.Fatal(err)
		}
		var b2 Block
		if err := json.Unmarshal(again, &b2); err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		if b2.ID() != id {
			t.Fatal("id changed across a round trip")
		}
		_ = BlockRoot(b.Transactions)
	})
}
