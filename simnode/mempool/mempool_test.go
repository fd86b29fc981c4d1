package mempool

import (
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

func TestPoolOrderCapAndReject(t *testing.T) {
	p := New(3)
	for i := range 4 {
		ok := p.Add(nodeapi.Hash{byte(i)}, wire.Tx{MantleTx: wire.MantleTx{ExecutionGasPrice: uint64(i)}})
		if ok != (i < 3) {
			t.Errorf("add %d: %v", i, ok)
		}
	}
	if p.Add(nodeapi.Hash{0}, wire.Tx{}) {
		t.Error("duplicate added")
	}
	hs, txs := p.Pending(2)
	if len(hs) != 2 || hs[0] != (nodeapi.Hash{0}) || txs[1].MantleTx.ExecutionGasPrice != 1 {
		t.Errorf("pending %v", hs)
	}
	p.Remove([]nodeapi.Hash{{0}})
	p.Reject(nodeapi.Hash{1})
	if p.Len() != 1 || !p.Rejected(nodeapi.Hash{1}) || p.Has(nodeapi.Hash{1}) || !p.Has(nodeapi.Hash{2}) {
		t.Errorf("after remove/reject: len %d", p.Len())
	}
	if p.LastAdded().IsZero() {
		t.Error("no arrival time")
	}
}
