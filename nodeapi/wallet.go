package nodeapi

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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
func PublicKey(key ed25519.PrivateKey) Hash {
	var h Hash
	copy(h[:], key.Public().(ed25519.PublicKey))
	return h
}

// NoteRef is a spendable note: its id and contents.
type NoteRef struct {
	ID   Hash
	Note Note
}

// OwnedNotes lists the outputs of block's transactions owned by pk, with
// their note ids (a wallet learns its genesis notes from the genesis block).
func OwnedNotes(b *Block, pk Hash) []NoteRef {
	return NotesByOwner(b)[pk]
}

// NotesByOwner indexes every output note of b by its owner, hashing each
// transaction once: finding many wallets' notes this way is linear in the
// block, where OwnedNotes per wallet would be quadratic.
func NotesByOwner(b *Block) map[Hash][]NoteRef {
	out := map[Hash][]NoteRef{}
	for i := range b.Transactions {
		tx := &b.Transactions[i]
		h := tx.Hash()
		for j, n := range tx.MantleTx.LedgerTx.Outputs {
			out[n.PK] = append(out[n.PK], NoteRef{ID: NoteID(h, j), Note: n})
		}
	}
	return out
}

// Transfer builds a signed transfer of amount from notes owned by key to
// recipient, with the change back to key. The inputs must hold at least
// amount in total.
func Transfer(key ed25519.PrivateKey, inputs []NoteRef, recipient Hash, amount uint64) (Tx, error) {
	if len(inputs) == 0 {
		return Tx{}, errors.New("transfer: no input notes")
	}
	pk := PublicKey(key)
	var sum uint64
	tx := Tx{MantleTx: MantleTx{Ops: []Op{}}, OpsProofs: []OpProof{}}
	for _, in := range inputs {
		if in.Note.PK != pk {
			return Tx{}, fmt.Errorf("transfer: note %s is not owned by the key", in.ID)
		}
		sum += in.Note.Value
		tx.MantleTx.LedgerTx.Inputs = append(tx.MantleTx.LedgerTx.Inputs, in.ID)
	}
	if sum < amount {
		return Tx{}, fmt.Errorf("transfer: inputs hold %d, want %d", sum, amount)
	}
	tx.MantleTx.LedgerTx.Outputs = []Note{{Value: amount, PK: recipient}}
	if sum > amount {
		tx.MantleTx.LedgerTx.Outputs = append(tx.MantleTx.LedgerTx.Outputs, Note{Value: sum - amount, PK: pk})
	}
	SignLedger(&tx, key)
	return tx, nil
}

// SignLedger sets the ledger proof: the key's signature of the tx hash.
func SignLedger(tx *Tx, key ed25519.PrivateKey) {
	h := tx.Hash()
	tx.LedgerTxProof = ZkSignature{PiA: make(Bytes, 32), PiB: ed25519.Sign(key, h[:]), PiC: make(Bytes, 32)}
}

// EmptyLedgerProof is the ledger proof of a tx without inputs.
func EmptyLedgerProof() ZkSignature {
	return ZkSignature{PiA: make(Bytes, 32), PiB: make(Bytes, 64), PiC: make(Bytes, 32)}
}

// Inscribe builds a ChannelInscribe tx signed by key, the channel's signer.
func Inscribe(key ed25519.PrivateKey, channel, parent Hash, data []byte) Tx {
	p := InscriptionPayload{ChannelID: channel, Inscription: data, Parent: parent, Signer: PublicKey(key)}
	return signedOpTx(key, OpChannelInscribe, p)
}

// BlobTx builds a ChannelBlob tx signed by key for a dispersed blob.
func BlobTx(key ed25519.PrivateKey, channel, parent Hash, blob BlobID, size uint64) Tx {
	p := BlobPayload{Channel: channel, Blob: blob, BlobSize: size, Parent: parent, Signer: PublicKey(key)}
	return signedOpTx(key, OpChannelBlob, p)
}

func signedOpTx(key ed25519.PrivateKey, opcode int, payload any) Tx {
	raw, err := json.Marshal(payload)
	if err != nil {
		panic(err) // payload types always marshal
	}
	tx := Tx{
		MantleTx:      MantleTx{Ops: []Op{{Opcode: opcode, Payload: raw}}, LedgerTx: LedgerTx{Inputs: []Hash{}, Outputs: []Note{}}},
		LedgerTxProof: EmptyLedgerProof(),
	}
	h := tx.Hash()
	tx.OpsProofs = []OpProof{{Ed25519Sig: ed25519.Sign(key, h[:])}}
	return tx
}
