package txcodec

import (
	"encoding/binary"
	"encoding/json"

	"golang.org/x/crypto/blake2b"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// MantleHash is the transaction hash of a mantle_tx given its canonical
// JSON encoding (Go's encoder: fixed field order, lower-case hex ids,
// compacted payloads). Nomos hashes the Mantle binary encoding with
// Poseidon2 over BN254; the reference node hashes this JSON with
// Blake2b-256 under the same domain tag, so clients compute it without a
// SNARK-friendly hash library.
func MantleHash(canonical []byte) nodeapi.Hash {
	d, _ := blake2b.New256(nil)
	d.Write([]byte("NOMOS_MANTLE_TXHASH_V1"))
	d.Write(canonical)
	var h nodeapi.Hash
	d.Sum(h[:0])
	return h
}

// TxHash is the hash of tx as the reference node computes it. The ids of a
// transaction built here or read from the reference node are canonical, so
// its encoding is the one the node hashes.
func TxHash(tx *nodeapi.Tx) nodeapi.Hash {
	b, err := json.Marshal(tx.MantleTx)
	if err != nil {
		// Unreachable for a decoded tx: every field marshals.
		panic(err)
	}
	return MantleHash(b)
}

// NoteID is the id of output index of the transaction hashed txHash.
func NoteID(txHash nodeapi.Hash, index int) nodeapi.Hash {
	var buf [32 + 4]byte
	copy(buf[:], txHash[:])
	binary.LittleEndian.PutUint32(buf[32:], uint32(index))
	return blake2b.Sum256(append([]byte("NOMOS_NOTE_ID_V1"), buf[:]...))
}

// MsgID is the channel message id of an op: Blake2b-256 of its opcode and
// payload, which must be compact JSON as the node encodes it.
func MsgID(op nodeapi.Op) nodeapi.Hash {
	return blake2b.Sum256(append([]byte{byte(op.Opcode)}, op.Payload...))
}
