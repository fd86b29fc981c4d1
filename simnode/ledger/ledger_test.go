package ledger

import (
	"errors"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// strict reads tx as the node reads a submitted transaction.
func strict(t *testing.T, tx nodeapi.Tx) *wire.Tx {
	t.Helper()
	out, err := wire.ParseTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	return &out
}

func genesis(t *testing.T) (*State, []txcodec.NoteRef) {
	t.Helper()
	k := txcodec.WalletKey(1, 0)
	g := nodeapi.Tx{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{Outputs: []nodeapi.Note{{Value: 100, PK: txcodec.PublicKey(k).String()}}}}}
	s := New()
	s.AddOutputs(strict(t, g))
	b := &nodeapi.Block{Transactions: []nodeapi.Tx{g}}
	return s, txcodec.OwnedNotes(b, txcodec.PublicKey(k))
}

func TestTransferRules(t *testing.T) {
	s, notes := genesis(t)
	k := txcodec.WalletKey(1, 0)
	to := txcodec.PublicKey(txcodec.WalletKey(1, 1))
	signed, err := txcodec.Transfer(k, notes, to, 30)
	if err != nil {
		t.Fatal(err)
	}
	tx := *strict(t, signed)
	if err := s.Clone().Apply(&tx); err != nil {
		t.Fatalf("valid transfer: %v", err)
	}
	// Tampered amount breaks the signature.
	bad := tx
	bad.MantleTx.LedgerTx.Outputs = []wire.Note{{Value: 100, PK: to}}
	if err := s.Clone().Apply(&bad); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered tx: %v", err)
	}
	// Unbalanced, even when properly signed.
	unb := nodeapi.Tx{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{Inputs: []string{notes[0].ID.String()}, Outputs: []nodeapi.Note{{Value: 101, PK: to.String()}}}}}
	txcodec.SignLedger(&unb, k)
	if err := s.Clone().Apply(strict(t, unb)); !errors.Is(err, ErrUnbalanced) {
		t.Errorf("unbalanced tx: %v", err)
	}
	// Signed by someone else.
	thief := signed
	txcodec.SignLedger(&thief, txcodec.WalletKey(1, 1))
	if err := s.Clone().Apply(strict(t, thief)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("foreign signature: %v", err)
	}
	// Double spend: second use of the same note, and within one tx.
	if err := s.Apply(&tx); err != nil {
		t.Fatal(err)
	}
	if s.Balance(to) != 30 || s.Balance(txcodec.PublicKey(k)) != 70 {
		t.Errorf("balances %d %d", s.Balance(to), s.Balance(txcodec.PublicKey(k)))
	}
	again, _ := txcodec.Transfer(k, notes, to, 10)
	if err := s.Apply(strict(t, again)); !errors.Is(err, ErrDoubleSpend) {
		t.Errorf("double spend: %v", err)
	}
	s2, notes2 := genesis(t)
	twice, _ := txcodec.Transfer(k, append(notes2, notes2...), to, 200)
	if err := s2.Apply(strict(t, twice)); !errors.Is(err, ErrDoubleSpend) {
		t.Errorf("same note twice in one tx: %v", err)
	}
}

func TestOpSignatures(t *testing.T) {
	k := txcodec.WalletKey(1, 3)
	tx := strict(t, txcodec.Inscribe(k, nodeapi.Hash{1}, nodeapi.Hash{}, []byte("hello")))
	if err := CheckStateless(tx); err != nil {
		t.Fatalf("inscription: %v", err)
	}
	blob := strict(t, txcodec.BlobTx(k, nodeapi.Hash{1}, nodeapi.Hash{}, nodeapi.BlobID{7}, 31))
	if err := CheckStateless(blob); err != nil {
		t.Fatalf("blob: %v", err)
	}
	tx.MantleTx.ExecutionGasPrice = 1
	if err := CheckStateless(tx); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed tx kept its signature: %v", err)
	}
	tx.OpsProofs = nil
	if err := CheckStateless(tx); !errors.Is(err, ErrMalformed) {
		t.Errorf("missing op proof: %v", err)
	}
	tx.MantleTx.Ops[0].Opcode = 99
	tx.OpsProofs = []txcodec.OpProof{{}}
	if err := CheckStateless(tx); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown opcode: %v", err)
	}
}
