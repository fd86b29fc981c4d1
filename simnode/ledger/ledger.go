// Package ledger is the note (UTXO) ledger of the reference node: the set of
// unspent notes and the rules a transaction must pass to change it
// (signatures, known unspent inputs, balance).
package ledger

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// Rule violations of a transaction.
var (
	ErrDoubleSpend  = errors.New("input note is spent or unknown")
	ErrUnbalanced   = errors.New("inputs and outputs do not balance")
	ErrBadSignature = errors.New("bad signature")
	ErrMalformed    = errors.New("malformed transaction")
)

// State is a set of unspent notes. Apply changes it in place; Clone before
// applying a block to a parent's state.
type State struct {
	notes map[nodeapi.Hash]wire.Note
}

// New returns an empty state.
func New() *State { return &State{notes: map[nodeapi.Hash]wire.Note{}} }

// Clone returns an independent copy.
func (s *State) Clone() *State { return &State{notes: maps.Clone(s.notes)} }

// Len is the number of unspent notes.
func (s *State) Len() int { return len(s.notes) }

// Note returns an unspent note.
func (s *State) Note(id nodeapi.Hash) (wire.Note, bool) {
	n, ok := s.notes[id]
	return n, ok
}

// Balance is the total value of the unspent notes of pk.
func (s *State) Balance(pk nodeapi.Hash) uint64 {
	var sum uint64
	for _, n := range s.notes {
		if n.PK == pk {
			sum += n.Value
		}
	}
	return sum
}

// AddOutputs adds the outputs of tx without any check (genesis).
func (s *State) AddOutputs(tx *wire.Tx) {
	h := tx.Hash()
	for i, n := range tx.MantleTx.LedgerTx.Outputs {
		s.notes[txcodec.NoteID(h, i)] = n
	}
}

// CheckStateless verifies what needs no state: shape and op signatures.
func CheckStateless(tx *wire.Tx) error {
	mt := &tx.MantleTx
	if len(tx.OpsProofs) != len(mt.Ops) {
		return fmt.Errorf("%w: %d ops but %d op proofs", ErrMalformed, len(mt.Ops), len(tx.OpsProofs))
	}
	h := tx.Hash()
	for i, op := range mt.Ops {
		var signer nodeapi.Hash
		switch op.Opcode {
		case nodeapi.OpChannelInscribe:
			var p wire.InscriptionPayload
			if err := json.Unmarshal(op.Payload, &p); err != nil {
				return fmt.Errorf("%w: op %d: %v", ErrMalformed, i, err)
			}
			signer = p.Signer
		case nodeapi.OpChannelBlob:
			var p wire.BlobPayload
			if err := json.Unmarshal(op.Payload, &p); err != nil {
				return fmt.Errorf("%w: op %d: %v", ErrMalformed, i, err)
			}
			signer = p.Signer
		default:
			return fmt.Errorf("%w: op %d: opcode %d is not supported", ErrMalformed, i, op.Opcode)
		}
		sig := tx.OpsProofs[i].Ed25519Sig
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(signer[:], h[:], sig) {
			return fmt.Errorf("%w: op %d", ErrBadSignature, i)
		}
	}
	return nil
}

// Apply checks tx against the state and spends its inputs into its outputs.
func (s *State) Apply(tx *wire.Tx) error {
	if err := CheckStateless(tx); err != nil {
		return err
	}
	h := tx.Hash()
	if err := s.Check(tx, h); err != nil {
		return err
	}
	lt := &tx.MantleTx.LedgerTx
	for _, id := range lt.Inputs {
		delete(s.notes, id)
	}
	for i, n := range lt.Outputs {
		s.notes[txcodec.NoteID(h, i)] = n
	}
	return nil
}

// Check verifies tx (hashed h) against the state without changing it:
// inputs must be distinct unspent notes of one owner, who signs the tx hash
// (the signature travels in ledger_tx_proof.pi_b), and input and output
// values must be equal. Op signatures are CheckStateless's job.
func (s *State) Check(tx *wire.Tx, h nodeapi.Hash) error {
	lt := &tx.MantleTx.LedgerTx
	var in, out uint64
	seen := make(map[nodeapi.Hash]bool, len(lt.Inputs))
	var owner nodeapi.Hash
	for i, id := range lt.Inputs {
		n, ok := s.notes[id]
		if !ok || seen[id] {
			return fmt.Errorf("%w: %s", ErrDoubleSpend, id)
		}
		seen[id] = true
		if i == 0 {
			owner = n.PK
		} else if n.PK != owner {
			return fmt.Errorf("%w: inputs of more than one owner", ErrMalformed)
		}
		if in+n.Value < in {
			return fmt.Errorf("%w: input overflow", ErrUnbalanced)
		}
		in += n.Value
	}
	for _, n := range lt.Outputs {
		if out+n.Value < out {
			return fmt.Errorf("%w: output overflow", ErrUnbalanced)
		}
		out += n.Value
	}
	if in != out {
		return fmt.Errorf("%w: in %d, out %d", ErrUnbalanced, in, out)
	}
	if len(lt.Inputs) > 0 {
		sig := tx.LedgerTxProof.PiB
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(owner[:], h[:], sig) {
			return fmt.Errorf("%w: ledger proof", ErrBadSignature)
		}
	}
	return nil
}
