package reference

import (
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/ledger"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// genesisFor is a genesis block funding the plan's wallets as the node
// config generator does.
func genesisFor(t *testing.T, p *plan.Plan) (*nodeapi.Block, nodeapi.Tx) {
	t.Helper()
	gtx := nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{}}}
	for i := 0; i < p.Wallets.Count; i++ {
		gtx.MantleTx.LedgerTx.Outputs = append(gtx.MantleTx.LedgerTx.Outputs,
			nodeapi.Note{Value: p.Wallets.Funds, PK: txcodec.PublicKey(txcodec.WalletKey(uint64(p.Seed), i)).String()})
	}
	return &nodeapi.Block{Transactions: []nodeapi.Tx{gtx}}, gtx
}

// strict reads tx as the reference node reads a submitted transaction.
func strict(t *testing.T, tx nodeapi.Tx) *wire.Tx {
	t.Helper()
	out, err := wire.ParseTx(tx)
	if err != nil {
		t.Fatalf("the reference node cannot read the transaction: %v", err)
	}
	return &out
}

func TestNodeAPICodecTransactionsApplyOnTheReferenceLedger(t *testing.T) {
	p := walletPlan()
	genesis, gtx := genesisFor(t, p)
	c, err := NodeAPICodec(p, genesis)
	if err != nil {
		t.Fatal(err)
	}
	st := ledger.New()
	st.AddOutputs(strict(t, gtx))
	for i := 0; i < p.Wallets.Count; i++ {
		tx, err := c.Transfer(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Apply(strict(t, tx)); err != nil {
			t.Fatalf("wallet %d transfer rejected by the reference ledger: %v", i, err)
		}
		if pk := txcodec.PublicKey(txcodec.WalletKey(uint64(p.Seed), i)).String(); tx.MantleTx.LedgerTx.Outputs[0].PK != pk {
			t.Errorf("wallet %d output to %s, want itself", i, tx.MantleTx.LedgerTx.Outputs[0].PK)
		}
	}
	ch := strings.Repeat("ab", 32)
	tx, err := c.Inscription(ch, nodeapi.GenesisParent, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	api := strict(t, tx)
	if err := ledger.CheckStateless(api); err != nil {
		t.Errorf("inscription rejected: %v", err)
	}
	id, err := c.MsgID(tx.MantleTx.Ops[0])
	if err != nil || id != txcodec.MsgID(api.MantleTx.Ops[0]).String() {
		t.Errorf("MsgID = %s, %v; want the node's id", id, err)
	}
	if in, ok := tx.MantleTx.Ops[0].Inscription(); !ok || in.ChannelID != ch || in.Signer != c.Signer() {
		t.Errorf("inscription payload = %+v", in)
	}
}

func TestNodeAPICodecNeedsFundedWallets(t *testing.T) {
	p := walletPlan()
	genesis, _ := genesisFor(t, p)
	p.Seed++ // configs generated with another seed
	_, err := NodeAPICodec(p, genesis)
	if err == nil || !strings.Contains(err.Error(), "wallet 0 owns no note in the genesis block") {
		t.Errorf("err = %v", err)
	}
}

// walletPlan is a one-validator plan with 8 funded wallets.
func walletPlan() *plan.Plan {
	return &plan.Plan{Seed: 3, Wallets: plan.Wallets{Count: 8, Funds: 100},
		Topology: plan.Topology{Validators: 1, Nodes: []plan.Node{{Name: "validator-0", Role: plan.RoleValidator}}}}
}
