package wire

import (
	"encoding/binary"
	"encoding/json"

	"golang.org/x/crypto/blake2b"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// ID is the block id: Blake2b-256 over "BLOCK_ID_V1", the version byte, the
// parent, the slot (u64 LE), the block root, the voucher commitment, the
// entropy contribution, the proof (zero-padded to ProofSize) and the leader
// key, as in the Nomos header.
func (h Header) ID() nodeapi.Hash {
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
	var id nodeapi.Hash
	d.Sum(id[:0])
	return id
}

// ID is the block's header id.
func (b *Block) ID() nodeapi.Hash { return b.Header.ID() }

// Hash is the transaction hash (txcodec.MantleHash of the mantle_tx's
// canonical encoding, which decoding in this strict form yields).
func (tx *Tx) Hash() nodeapi.Hash {
	b, err := json.Marshal(tx.MantleTx)
	if err != nil {
		// Unreachable for a decoded tx: every field marshals.
		panic(err)
	}
	return txcodec.MantleHash(b)
}

// BlockRoot commits to the transaction hashes of a block: Blake2b-256 over
// their concatenation. (Nomos uses a Merkle root; nothing in the API needs
// inclusion proofs, so a flat hash is enough.) A block holding only the
// genesis tx has the genesis tx hash as root, as in Nomos.
func BlockRoot(txs []Tx) nodeapi.Hash {
	if len(txs) == 1 {
		return txs[0].Hash()
	}
	d, _ := blake2b.New256(nil)
	d.Write([]byte("NOMOS_BLOCK_ROOT_V1"))
	for i := range txs {
		h := txs[i].Hash()
		d.Write(h[:])
	}
	var r nodeapi.Hash
	d.Sum(r[:0])
	return r
}
