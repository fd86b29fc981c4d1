package wire_test

import (
	"encoding/json"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

func FuzzDecodeTx(f *testing.F) {
	k := txcodec.WalletKey(1, 0)
	tx := txcodec.Inscribe(k, nodeapi.Hash{1}, nodeapi.Hash{}, []byte("x"))
	b, _ := json.Marshal(tx)
	f.Add(b)
	tr, _ := txcodec.Transfer(k, []txcodec.NoteRef{{ID: nodeapi.Hash{2}, Note: nodeapi.Note{Value: 5, PK: txcodec.PublicKey(k).String()}}}, nodeapi.Hash{3}, 2)
	b, _ = json.Marshal(tr)
	f.Add(b)
	f.Add([]byte(`{"mantle_tx":{"ops":[]},"ops_proofs":[{"Ed25519Sig":[1]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tx wire.Tx
		if json.Unmarshal(data, &tx) != nil {
			return
		}
		h := tx.Hash()
		// A decoded tx re-encodes to a form with the same hash.
		again, err := json.Marshal(tx)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var tx2 wire.Tx
		if err := json.Unmarshal(again, &tx2); err != nil {
			t.Fatalf("decode re-encoded %s: %v", again, err)
		}
		if tx2.Hash() != h {
			t.Fatalf("hash changed across a round trip")
		}
		// Clients read it in the lenient form and hash it as the node does.
		var lenient nodeapi.Tx
		if err := json.Unmarshal(again, &lenient); err != nil {
			t.Fatalf("lenient decode of %s: %v", again, err)
		}
		if txcodec.TxHash(&lenient) != h {
			t.Fatalf("txcodec hash differs from the node's")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	b := wire.Block{Header: wire.Header{Version: wire.BlockVersion, Slot: 3, ProofOfLeadership: wire.ProofOfLeadership{Proof: make(nodeapi.Bytes, wire.ProofSize)}}, Signature: make(nodeapi.Bytes, 64)}
	data, _ := json.Marshal(b)
	f.Add(data)
	f.Add([]byte(`{"header":{"parent_block":"0x` + nodeapi.Hash{}.String() + `"},"signature":[300]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b wire.Block
		if json.Unmarshal(data, &b) != nil {
			return
		}
		id := b.ID()
		again, err := json.Marshal(&b)
		if err != nil {
			t.Fatal(err)
		}
		var b2 wire.Block
		if err := json.Unmarshal(again, &b2); err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		if b2.ID() != id {
			t.Fatal("id changed across a round trip")
		}
		_ = wire.BlockRoot(b.Transactions)
	})
}
