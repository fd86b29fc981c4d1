// Package txcodec builds and signs transactions of the reference node's
// scheme from deterministic wallet keys: the keys config generation funds in
// genesis, transfers, channel inscriptions and blob transactions. The
// reference node (simnode) verifies what it signs and the engine's workloads
// submit what it builds, both as nodeapi.Tx. It is the one place of the
// scheme's hashing (transaction hash, note ids, message ids) and proof
// shapes, which the reference node checks against.
package txcodec

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// WalletKey is the deterministic key of wallet i of a cluster seeded with
// seed; config generation funds the same keys in genesis.
func WalletKey(seed uint64, i int) ed25519.PrivateKey {
	return DeriveKey(seed, "wallet", fmt.Sprint(i))
}

// DeriveKey is the Ed25519 key for a purpose and name under seed; every key
// of a cluster (p2p identity, leader, wallets) comes from it so ids are known
// before any node starts.
func DeriveKey(seed uint64, purpose, name string) ed25519.PrivateKey {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seed)
	h := sha256.New()
	h.Write([]byte("nomosrun-key-v1\x00"))
	h.Write(s[:])
	h.Write([]byte(purpose + "\x00" + name))
	return ed25519.NewKeyFromSeed(h.Sum(nil))
}

// PublicKey is the wire form of key's public half.
func PublicKey(key ed25519.PrivateKey) nodeapi.Hash {
	var h nodeapi.Hash
	copy(h[:], key.Public().(ed25519.PublicKey))
	return h
}

// NoteRef is a spendable note: its id and contents.
type NoteRef struct {
	ID   nodeapi.Hash
	Note nodeapi.Note
}

// OwnedNotes lists the outputs of block's transactions owned by pk, with
// their note ids (a wallet learns its genesis notes from the genesis block).
func OwnedNotes(b *nodeapi.Block, pk nodeapi.Hash) []NoteRef {
	return NotesByOwner(b)[pk.String()]
}

// NotesByOwner indexes every output note of b by its owner's public key as
// the block carries it, hashing each transaction once: finding many
// wallets' notes this way is linear in the block, where OwnedNotes per
// wallet would be quadratic.
func NotesByOwner(b *nodeapi.Block) map[string][]NoteRef {
	out := map[string][]NoteRef{}
	for i := range b.Transactions {
		tx := &b.Transactions[i]
		h := TxHash(tx)
		for j, n := range tx.MantleTx.LedgerTx.Outputs {
			out[n.PK] = append(out[n.PK], NoteRef{ID: NoteID(h, j), Note: n})
		}
	}
	return out
}

// Transfer builds a signed transfer of amount from notes owned by key to
// recipient, with the change back to key. The inputs must hold at least
// amount in total.
func Transfer(key ed25519.PrivateKey, inputs []NoteRef, recipient nodeapi.Hash, amount uint64) (nodeapi.Tx, error) {
	if len(inputs) == 0 {
		return nodeapi.Tx{}, errors.New("transfer: no input notes")
	}
	pk := PublicKey(key).String()
	var sum uint64
	tx := nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{}}, OpsProofs: []json.RawMessage{}}
	for _, in := range inputs {
		if in.Note.PK != pk {
			return nodeapi.Tx{}, fmt.Errorf("transfer: note %s is not owned by the key", in.ID)
		}
		sum += in.Note.Value
		tx.MantleTx.LedgerTx.Inputs = append(tx.MantleTx.LedgerTx.Inputs, in.ID.String())
	}
	if sum < amount {
		return nodeapi.Tx{}, fmt.Errorf("transfer: inputs hold %d, want %d", sum, amount)
	}
	tx.MantleTx.LedgerTx.Outputs = []nodeapi.Note{{Value: amount, PK: recipient.String()}}
	if sum > amount {
		tx.MantleTx.LedgerTx.Outputs = append(tx.MantleTx.LedgerTx.Outputs, nodeapi.Note{Value: sum - amount, PK: pk})
	}
	SignLedger(&tx, key)
	return tx, nil
}

// SignLedger sets the ledger proof: the key's signature of the tx hash.
func SignLedger(tx *nodeapi.Tx, key ed25519.PrivateKey) {
	h := TxHash(tx)
	tx.LedgerTxProof = raw(ZkSignature{PiA: make(nodeapi.Bytes, 32), PiB: ed25519.Sign(key, h[:]), PiC: make(nodeapi.Bytes, 32)})
}

// Inscribe builds a ChannelInscribe tx signed by key, the channel's signer.
func Inscribe(key ed25519.PrivateKey, channel, parent nodeapi.Hash, data []byte) nodeapi.Tx {
	p := nodeapi.InscriptionPayload{ChannelID: channel.String(), Inscription: data, Parent: parent.String(), Signer: PublicKey(key).String()}
	return signedOpTx(key, nodeapi.OpChannelInscribe, p)
}

// BlobTx builds a ChannelBlob tx signed by key for a dispersed blob.
func BlobTx(key ed25519.PrivateKey, channel, parent nodeapi.Hash, blob nodeapi.BlobID, size uint64) nodeapi.Tx {
	p := nodeapi.BlobPayload{Channel: channel.String(), Blob: blob, BlobSize: size, Parent: parent.String(), Signer: PublicKey(key).String()}
	return signedOpTx(key, nodeapi.OpChannelBlob, p)
}

func signedOpTx(key ed25519.PrivateKey, opcode int, payload any) nodeapi.Tx {
	tx := nodeapi.Tx{
		MantleTx:      nodeapi.MantleTx{Ops: []nodeapi.Op{{Opcode: opcode, Payload: raw(payload)}}, LedgerTx: nodeapi.LedgerTx{Inputs: []string{}, Outputs: []nodeapi.Note{}}},
		LedgerTxProof: raw(EmptyLedgerProof()),
	}
	h := TxHash(&tx)
	tx.OpsProofs = []json.RawMessage{raw(OpProof{Ed25519Sig: ed25519.Sign(key, h[:])})}
	return tx
}
