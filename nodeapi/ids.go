package nodeapi

import (
	"encoding/binary"
	"encoding/json"

	"golang.org/x/crypto/blake2b"
)

// ID is the block id: Blake2b-256 over "BLOCK_ID_V1", the version byte, the
// parent, the slot (u64 LE), the block root, the voucher commitment, the
// entropy contribution, the proof (zero-padded to ProofSize) and the leader
// key, as in the Nomos header.
func (h Header) ID() Hash {
	d, _ := blake2b.New256(nil)
	d.Write([]byte("BLOCK_ID_V1"))
	d.Write([]byte{1})
	d.Write(h.Parent[:])
	var slot [8]byte
	binary.LittleEndian.PutUint64(slot[:], h.Slot)
	d.Write(slot[:])
	d.Write(h.BlockRoot[:])
	d.Write(h.ProofOfLeadership.VoucherCm[:])
	d.Write(h.ProofOfLeadership.EntropyContribution[:])
	var proof [ProofSize]byte
	copy(proof[:], h.ProofOfLeadership.Proof)
	d.Write(proof[:])
	d.Write(h.ProofOfLeadership.LeaderKey[:])
	var id Hash
	d.Sum(id[:0])
	return id
}

// ID is the block's header id.
func (b *Block) ID() Hash { return b.Header.ID() }

// Hash is the transaction hash. Nomos hashes the Mantle binary encoding with
// Poseidon2 over BN254; the reference node hashes the canonical JSON of the
// mantle_tx (Go's encoder: fixed field order, compacted payloads) with
// Blake2b-256 under the same domain tag, so clients compute it without a
// SNARK-friendly hash library.
func (tx *Tx) Hash() Hash {
	b, err := json.Marshal(tx.MantleTx)
	if err != nil {
		// Unreachable for a decoded tx: every field marshals.
		panic(err)
	}
	d, _ := blake2b.New256(nil)
	d.Write([]byte("NOMOS_MANTLE_TXHASH_V1"))
	d.Write(b)
	var h Hash
	d.Sum(h[:0])
	return h
}

// NoteID is the id of output index of the transaction hashed txHash.
func NoteID(txHash Hash, index int) Hash {
	var buf [32 + 4]byte
	copy(buf[:], txHash[:])
	binary.LittleEndian.PutUint32(buf[32:], uint32(index))
	return blake2b.Sum256(append([]byte("NOMOS_NOTE_ID_V1"), buf[:]...))
}

// BlockRoot commits to the transaction hashes of a block: Blake2b-256 over
// their concatenation. (Nomos uses a Merkle root; nothing in the API needs
// inclusion proofs, so a flat hash is enough.) A block holding only the
// genesis tx has the genesis tx hash as root, as in Nomos.
func BlockRoot(txs []Tx) Hash {
	if len(txs) == 1 {
		return txs[0].Hash()
	}
	d, _ := blake2b.New256(nil)
	d.Write([]byte("NOMOS_BLOCK_ROOT_V1"))
	for i := range txs {
		h := txs[i].Hash()
		d.Write(h[:])
	}
	var r Hash
	d.Sum(r[:0])
	return r
}

// MsgID is the channel message id of an op: Blake2b-256 of its opcode and
// canonical payload.
func MsgID(op Op) Hash {
	return blake2b.Sum256(append([]byte{byte(op.Opcode)}, op.Payload...))
}
