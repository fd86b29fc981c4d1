package workloads

import (
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/ledger"
)

// genesisFor is a genesis block funding the plan's wallets as the node
// config generator does, converted to the engine's wire types.
func genesisFor(t *testing.T, p *plan.Plan) (*nodeclient.Block, nodeapi.Tx) {
	t.Helper()
	gtx := nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{}}}
	for i := 0; i < p.Wallets.Count; i++ {
		gtx.MantleTx.LedgerTx.Outputs = append(gtx.MantleTx.LedgerTx.Outputs,
			nodeapi.Note{Value: p.Wallets.Funds, PK: txcodec.PublicKey(txcodec.WalletKey(uint64(p.Seed), i))})
	}
	var out nodeclient.Block
	if err := convert(nodeapi.Block{Transactions: []nodeapi.Tx{gtx}}, &out); err != nil {
		t.Fatal(err)
	}
	return &out, gtx
}

func TestNodeAPICodecTransactionsApplyOnTheReferenceLedger(t *testing.T) {
	p := testPlan(1, 0)
	genesis, gtx := genesisFor(t, p)
	c, err := NodeAPICodec(p, genesis)
	if err != nil {
		t.Fatal(err)
	}
	st := ledger.New()
	st.AddOutputs(&gtx)
	for i := 0; i < p.Wallets.Count; i++ {
		tx, err := c.Transfer(i)
		if err != nil {
			t.Fatal(err)
		}
		var api nodeapi.Tx
		if err := convert(tx, &api); err != nil {
			t.Fatal(err)
		}
		if err := st.Apply(&api); err != nil {
			t.Fatalf("wallet %d transfer rejected by the reference ledger: %v", i, err)
		}
		if pk := txcodec.PublicKey(txcodec.WalletKey(uint64(p.Seed), i)).String(); tx.MantleTx.LedgerTx.Outputs[0].PK != pk {
			t.Errorf("wallet %d output to %s, want itself", i, tx.MantleTx.LedgerTx.Outputs[0].PK)
		}
	}
	ch := strings.Repeat("ab", 32)
	tx, err := c.Inscription(ch, RootMsgID, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	var api nodeapi.Tx
	convert(tx, &api)
	if err := ledger.CheckStateless(&api); err != nil {
		t.Errorf("inscription rejected: %v", err)
	}
	id, err := c.MsgID(tx.MantleTx.Ops[0])
	if err != nil || id != nodeapi.MsgID(api.MantleTx.Ops[0]).String() {
		t.Errorf("MsgID = %s, %v; want the node's id", id, err)
	}
	if in, ok := tx.MantleTx.Ops[0].Inscription(); !ok || in.ChannelID != ch || in.Signer != c.Signer() {
		t.Errorf("inscription payload = %+v", in)
	}
}

func TestNodeAPICodecNeedsFundedWallets(t *testing.T) {
	p := testPlan(1, 0)
	genesis, _ := genesisFor(t, p)
	p.Seed++ // configs generated with another seed
	_, err := NodeAPICodec(p, genesis)
	if err == nil || !strings.Contains(err.Error(), "wallet 0 owns no note in the genesis block") {
		t.Errorf("err = %v", err)
	}
}
