package node

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// headersLimit caps /cryptarchia/headers, as in Nomos.
const headersLimit = 512

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Node.Name }

// IsExecutor reports the role.
func (n *Node) IsExecutor() bool { return n.cfg.Node.Role == "executor" }

// Info is /cryptarchia/info.
func (n *Node) Info() nodeapi.Info {
	n.mu.Lock()
	defer n.mu.Unlock()
	tip := n.tree.Tip()
	mode := nodeapi.ModeBootstrapping
	if n.tree.Online() {
		mode = nodeapi.ModeOnline
	}
	return nodeapi.Info{LIB: n.tree.LIB().ID.String(), Tip: tip.ID.String(), Slot: tip.Slot, Height: tip.Height, Mode: mode}
}

// ErrUnknownBlock is returned for a headers walk from an unknown block.
var ErrUnknownBlock = errors.New("unknown block")

// Headers is /cryptarchia/headers; nil from/to mean tip/LIB.
func (n *Node) Headers(from, to *nodeapi.Hash) ([]nodeapi.Hash, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f, t := n.tree.Tip().ID, n.tree.LIB().ID
	if from != nil {
		f = *from
	}
	if to != nil {
		t = *to
	}
	if !n.tree.Has(f) {
		return nil, ErrUnknownBlock
	}
	return n.tree.Headers(f, t, headersLimit)
}

// Block is /storage/block; nil when unknown.
func (n *Node) Block(id nodeapi.Hash) *wire.Block {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.blocks[id]
}

// AddTx is /mempool/add/tx: check, pool and gossip. Under the
// drop_transactions bug a valid tx is checked and then discarded.
func (n *Node) AddTx(ctx context.Context, tx *wire.Tx) error {
	if n.bugOn(bugDropTransactions) {
		h, err := n.checkTx(tx)
		if err == nil {
			n.log.Debug("transaction dropped (drop_transactions bug)", "tx", h)
		}
		return err
	}
	fresh, err := n.admit(tx)
	if err != nil || !fresh {
		return err
	}
	n.metrics.txs.Inc()
	data, err := json.Marshal(tx)
	if err != nil {
		return err
	}
	if n.net != nil {
		return n.net.PublishTx(ctx, data)
	}
	return nil
}

// TxStatus is /mantle/status.
func (n *Node) TxStatus(hs []nodeapi.Hash) []nodeapi.TxStatus {
	out := make([]nodeapi.TxStatus, len(hs))
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, h := range hs {
		out[i].State = nodeapi.TxUnknown
		for _, b := range n.txIndex[h] {
			if n.tree.OnMain(b) {
				out[i] = nodeapi.TxStatus{State: nodeapi.TxInBlock, Block: b.String()}
			}
		}
		if out[i].State != nodeapi.TxUnknown {
			continue
		}
		switch {
		case n.pool.Has(h):
			out[i].State = nodeapi.TxPending
		case n.pool.Rejected(h):
			out[i].State = nodeapi.TxRejected
		}
	}
	return out
}

// MantleMetrics is /mantle/metrics.
func (n *Node) MantleMetrics() nodeapi.MantleMetrics {
	m := nodeapi.MantleMetrics{PendingItems: uint64(n.pool.Len())}
	if t := n.pool.LastAdded(); !t.IsZero() {
		m.LastItemTimestamp = uint64(t.UnixMilli())
	}
	return m
}

// NetworkInfo is /network/info.
func (n *Node) NetworkInfo() nodeapi.NetworkInfo {
	if n.net == nil {
		return nodeapi.NetworkInfo{ListenAddresses: []string{}}
	}
	return n.net.Info()
}

// SubscribeLIB streams LIB changes until cancel is called.
func (n *Node) SubscribeLIB() (<-chan nodeapi.LibInfo, func()) {
	ch := make(chan nodeapi.LibInfo, 64)
	n.mu.Lock()
	n.libSubs[ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.libSubs, ch)
		n.mu.Unlock()
	}
}

// errNoNetwork is returned by network hooks before Run starts the network.
var errNoNetwork = errors.New("network not started")

// BlockPeers is the block-peers fault hook.
func (n *Node) BlockPeers(peers []string) error {
	if n.net == nil {
		return errNoNetwork
	}
	return n.net.Block(peers)
}

// UnblockPeers is the unblock-peers fault hook.
func (n *Node) UnblockPeers(peers []string) error {
	if n.net == nil {
		return errNoNetwork
	}
	return n.net.Unblock(peers)
}

// SetLinkFault is the link-fault hook.
func (n *Node) SetLinkFault(f nodeapi.LinkFault) error {
	if n.net == nil {
		return errNoNetwork
	}
	return n.net.SetLink(f)
}

// SetClockOffset shifts the node's clock.
func (n *Node) SetClockOffset(d time.Duration) {
	n.offset.Store(int64(d))
	n.log.Info("clock offset set", "offset", d)
}

// Faults reads back the fault hooks.
func (n *Node) Faults() nodeapi.Faults {
	f := nodeapi.Faults{Blocked: []string{}, Links: []nodeapi.LinkFault{}, ClockOffsetMS: time.Duration(n.offset.Load()).Milliseconds(),
		Bugs: n.activeBugs()}
	if n.net != nil {
		f.Blocked, f.Links = n.net.Faults()
		if f.Blocked == nil {
			f.Blocked = []string{}
		}
	}
	return f
}
