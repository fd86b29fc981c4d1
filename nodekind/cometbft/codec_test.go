package cometbft

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

func TestTransfersAreWalletWrites(t *testing.T) {
	p := testPlan(1, plan.NetworkStar)
	p.Wallets = plan.Wallets{Count: 3, Funds: 42}
	c, err := Kind{}.Codec(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 3 {
		tx, err := c.Transfer(i)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := RawTx(tx)
		pk := txcodec.PublicKey(txcodec.WalletKey(7, i)).String()
		if !ok || string(raw) != "w"+pk+"=42" {
			t.Fatalf("wallet %d writes %q", i, raw)
		}
		if out := tx.MantleTx.LedgerTx.Outputs; len(out) != 1 || out[0].PK != pk || out[0].Value != 42 {
			t.Fatalf("wallet %d outputs %+v", i, out)
		}
		sum := sha256.Sum256(raw)
		if h, err := c.(interface {
			TxHash(tx nodeapi.Tx) (string, error)
		}).TxHash(tx); err != nil || h != hex.EncodeToString(sum[:]) {
			t.Fatalf("hash %s, %v", h, err)
		}
		seen[string(raw)] = true
	}
	if len(seen) != 3 {
		t.Fatal("two wallets wrote the same transaction, which the mempool would drop")
	}
	if _, err := c.Transfer(3); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("wallet 3 of 3: %v", err)
	}
	if _, err := c.Inscription("", "", nil); err == nil {
		t.Fatal("an inscription on a chain without channels")
	}
}

func TestOnlyWalletKeysShowAsOutputs(t *testing.T) {
	for raw, outputs := range map[string]int{"wabc=1": 1, "abc=1": 0, "wabc=x": 0, "val:xyz": 0} {
		if got := len(WrapTx([]byte(raw)).MantleTx.LedgerTx.Outputs); got != outputs {
			t.Errorf("%q shows %d outputs, want %d", raw, got, outputs)
		}
	}
}
