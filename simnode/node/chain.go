package node

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/consensus"
	"github.com/nomosrun/nomosrun/simnode/ledger"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// errStopped is what applyLocked returns under the stop_applying bug.
var errStopped = errors.New("block not applied: the stop_applying bug is on")

// errOrphan marks a block whose parent is unknown; it waits in the orphan
// cache while its ancestors are fetched.
var errOrphan = errors.New("orphan block")

// maxOrphans bounds the orphan cache.
const maxOrphans = 1024

// futureSlots is how far ahead of the local clock a block's slot may be.
const futureSlots = 1

// CheckBlock verifies what needs no chain state: shape, root, leader proof
// and signature. devMode skips the lottery signature check.
func CheckBlock(b *wire.Block, nonce nodeapi.Hash, stake map[nodeapi.Hash]uint64, total uint64, f float64, devMode bool) error {
	h := &b.Header
	if h.Version != wire.BlockVersion {
		return fmt.Errorf("version %q is not %s", h.Version, wire.BlockVersion)
	}
	if len(b.Transactions) > MaxBlockTxs {
		return fmt.Errorf("%d transactions, at most %d", len(b.Transactions), MaxBlockTxs)
	}
	if len(h.ProofOfLeadership.Proof) != wire.ProofSize {
		return fmt.Errorf("proof of %d bytes, want %d", len(h.ProofOfLeadership.Proof), wire.ProofSize)
	}
	if wire.BlockRoot(b.Transactions) != h.BlockRoot {
		return errors.New("block root does not match the transactions")
	}
	pk := h.ProofOfLeadership.LeaderKey
	s, ok := stake[pk]
	if !ok {
		return fmt.Errorf("leader %s holds no stake", pk)
	}
	p := consensus.WinProbability(f, s, total)
	if err := consensus.VerifyLeader(pk, nonce, h.Slot, h.ProofOfLeadership.Proof, p, devMode); err != nil {
		return err
	}
	id := h.ID()
	if len(b.Signature) != ed25519.SignatureSize || !ed25519.Verify(pk[:], id[:], b.Signature) {
		return errors.New("bad block signature")
	}
	return nil
}

// applyLocked validates b and adds it to the tree; persist stores it.
func (n *Node) applyLocked(b *wire.Block, persist bool) error {
	if n.bugOn(bugStopApplying) {
		return errStopped
	}
	id := b.ID()
	if n.tree.Has(id) {
		return nil
	}
	if !n.tree.Has(b.Header.Parent) {
		if len(n.orphans) < maxOrphans {
			n.orphans[id] = b
		}
		return errOrphan
	}
	if persist && b.Header.Slot > n.clock.Slot()+futureSlots {
		return fmt.Errorf("block slot %d is in the future", b.Header.Slot)
	}
	if err := CheckBlock(b, n.nonce, n.stake, n.total, n.f, n.devMode); err != nil {
		return err
	}
	if n.tree.Refuses(b.Header.Parent) {
		return consensus.ErrBelowLIB
	}
	parent, err := n.stateLocked(b.Header.Parent)
	if err != nil {
		return err
	}
	st := parent.Clone()
	for i := range b.Transactions {
		if err := st.Apply(&b.Transactions[i]); err != nil {
			return fmt.Errorf("tx %d: %w", i, err)
		}
	}
	oldTip, oldLIB := n.tree.Tip().ID, n.tree.LIB().ID
	if _, err := n.tree.Add(consensus.Branch{ID: id, Parent: b.Header.Parent, Slot: b.Header.Slot}); err != nil {
		return err
	}
	if persist {
		if err := n.store.PutBlock(b); err != nil {
			n.log.Error("store block", "err", err)
		}
	}
	n.blocks[id], n.states[id] = b, st
	hashes := make([]nodeapi.Hash, len(b.Transactions))
	for i := range b.Transactions {
		hashes[i] = b.Transactions[i].Hash()
		n.txIndex[hashes[i]] = append(n.txIndex[hashes[i]], id)
	}
	n.pool.Remove(hashes)
	if tip := n.tree.Tip(); tip.ID != oldTip {
		if tip.Parent != oldTip {
			n.metrics.reorgs.Inc()
			n.clog.Info("reorg", "old_tip", oldTip, "new_tip", tip.ID, "height", tip.Height)
			n.requeueLocked(oldTip)
		}
		n.clog.Debug("new tip", "tip", tip.ID, "height", tip.Height, "slot", tip.Slot)
	} else if !n.tree.OnMain(id) {
		n.metrics.forks.Inc()
	}
	if n.tree.LIB().ID != oldLIB {
		n.afterChangeLocked()
	}
	n.updateGaugesLocked()
	delete(n.orphans, id)
	for oid, ob := range n.orphans {
		if ob.Header.Parent == id {
			delete(n.orphans, oid)
			if err := n.applyLocked(ob, persist); err != nil && !errors.Is(err, errOrphan) {
				n.clog.Debug("orphan rejected", "block", oid, "err", err)
			}
		}
	}
	return nil
}

// stateLocked is the ledger state after block id. States below the LIB are
// dropped; when the LIB moved back (a restart that bootstraps onto a fork
// below the restored LIB, revert_finalized, the rejoin switch), a missing
// state is rebuilt by replaying the known blocks from the nearest ancestor
// that has one.
func (n *Node) stateLocked(id nodeapi.Hash) (*ledger.State, error) {
	var path []*wire.Block
	for {
		if st, ok := n.states[id]; ok {
			for i := len(path) - 1; i >= 0; i-- {
				st = st.Clone()
				for j := range path[i].Transactions {
					if err := st.Apply(&path[i].Transactions[j]); err != nil {
						return nil, fmt.Errorf("replay block %s: tx %d: %w", path[i].ID(), j, err)
					}
				}
				n.states[path[i].ID()] = st
			}
			return st, nil
		}
		b, ok := n.blocks[id]
		if !ok {
			return nil, fmt.Errorf("no ledger state for block %s", id)
		}
		path = append(path, b)
		id = b.Header.Parent
	}
}

// requeueLocked returns the transactions of blocks that left the selected
// chain (from old tip down to the common ancestor) to the mempool, so a
// reorganisation does not lose them; block building drops those the new
// chain already holds.
func (n *Node) requeueLocked(oldTip nodeapi.Hash) {
	for id := oldTip; !n.tree.OnMain(id); {
		b, ok := n.blocks[id]
		if !ok {
			return
		}
		for i := range b.Transactions {
			n.pool.Add(b.Transactions[i].Hash(), b.Transactions[i])
		}
		id = b.Header.Parent
	}
}

// afterChangeLocked runs after the LIB moves: persist it, notify streams and
// drop ledger states that can no longer be extended.
func (n *Node) afterChangeLocked() {
	lib := n.tree.LIB()
	if err := n.store.SetLIB(lib.ID); err != nil {
		n.log.Error("store lib", "err", err)
	}
	for id := range n.states {
		// Genesis keeps its state: older states are rebuilt from it when
		// the LIB moves back (stateLocked).
		if b, ok := n.tree.Get(id); ok && b.Height > 0 && b.Height < lib.Height {
			delete(n.states, id)
		}
	}
	info := nodeapi.LibInfo{Height: lib.Height, HeaderID: lib.ID.String()}
	for ch := range n.libSubs {
		select {
		case ch <- info:
		default: // a lagging subscriber loses items, as in Nomos
		}
	}
	n.updateGaugesLocked()
}

func (n *Node) updateGaugesLocked() {
	n.metrics.tip.Set(float64(n.tree.Tip().Height))
	n.metrics.lib.Set(float64(n.tree.LIB().Height))
	n.metrics.slot.Set(float64(n.tree.Tip().Slot))
}

// produce runs the leader lottery at every slot start.
func (n *Node) produce(ctx context.Context) {
	tick := min(max(n.clock.Duration/10, 5*time.Millisecond), 100*time.Millisecond)
	last := n.clock.Slot()
	for ctxtime.Sleep(ctx, tick) == nil {
		s := n.clock.Slot()
		if s <= last {
			if s < last { // the clock moved back: wait for new slots
				last = s
			}
			continue
		}
		last = s
		if !n.synced.Load() {
			continue
		}
		if b := n.propose(s); b != nil {
			data, err := json.Marshal(b)
			if err == nil {
				err = n.net.PublishBlock(ctx, data)
			}
			if err != nil && ctx.Err() == nil {
				n.log.Warn("publish block", "err", err)
			}
		}
	}
}

// propose draws the lottery for slot s and, on a win, builds, applies and
// returns a block on the current tip.
func (n *Node) propose(s uint64) *wire.Block {
	if n.bugOn(bugStopProposing) || n.bugOn(bugStopApplying) {
		return nil
	}
	pk := txcodec.PublicKey(n.leader)
	stake := n.stake[pk]
	if stake == 0 {
		return nil
	}
	proof, won := consensus.Draw(n.leader, n.nonce, s, consensus.WinProbability(n.f, stake, n.total))
	if !won {
		return nil
	}
	_, span := n.tracer.Start(context.Background(), "block produce", trace.WithAttributes(keySlot.Int64(int64(s))))
	defer span.End()
	n.mu.Lock()
	defer n.mu.Unlock()
	tip := n.tree.Tip()
	if s <= tip.Slot {
		span.SetAttributes(keyResult.String("stale"))
		return nil
	}
	st := n.states[tip.ID].Clone()
	hashes, pending := n.pool.Pending(MaxBlockTxs)
	txs := make([]wire.Tx, 0, len(pending))
	for i := range pending {
		if err := st.Apply(&pending[i]); err != nil {
			n.pool.Reject(hashes[i])
			continue
		}
		txs = append(txs, pending[i])
	}
	b := &wire.Block{
		Header: wire.Header{
			Version: wire.BlockVersion, Parent: tip.ID, Slot: s, BlockRoot: wire.BlockRoot(txs),
			ProofOfLeadership: wire.ProofOfLeadership{
				Proof: append(proof, make([]byte, wire.ProofSize-len(proof))...), LeaderKey: pk,
			},
		},
		Transactions: txs,
	}
	id := b.ID()
	b.Signature = ed25519.Sign(n.leader, id[:])
	span.SetAttributes(keyBlock.String(id.String()), keyHeight.Int64(int64(tip.Height+1)), keyTxs.Int(len(txs)))
	if err := n.applyLocked(b, true); err != nil {
		n.clog.Error("own block rejected", "slot", s, "err", err)
		span.SetAttributes(keyResult.String("rejected"))
		span.SetStatus(codes.Error, err.Error())
		return nil
	}
	span.SetAttributes(keyResult.String("applied"))
	n.metrics.produced.Inc()
	n.metrics.included.Add(float64(len(txs)))
	n.clog.Info("block produced", "block", id, "slot", s, "height", tip.Height+1, "txs", len(txs))
	return b
}

// handler is the node's side of the p2p network.
type handler Node

// started waits until Run has set the network (the network may call the
// handler while it starts); false when the node stops first.
func (n *Node) started() bool {
	select {
	case <-n.netUp:
		return true
	case <-n.ctx.Done():
		return false
	}
}

// OnBlock implements p2p.Handler.
func (h *handler) OnBlock(from peer.ID, data []byte) {
	n := (*Node)(h)
	if !n.started() {
		return
	}
	var b wire.Block
	if err := json.Unmarshal(data, &b); err != nil {
		n.clog.Debug("bad block gossip", "peer", n.net.Name(from), "err", err)
		return
	}
	n.metrics.received.Inc()
	if d := n.clock.Now().Sub(n.clock.SlotStart(b.Header.Slot)); d >= 0 {
		n.metrics.propagation.Observe(d.Seconds())
	}
	_, span := n.tracer.Start(context.Background(), "block import")
	defer span.End()
	if span.IsRecording() { // the block id costs a hash: only when traced
		span.SetAttributes(keyBlock.String(b.ID().String()), keySlot.Int64(int64(b.Header.Slot)),
			keyTxs.Int(len(b.Transactions)), keyPeer.String(n.net.Name(from)))
	}
	n.mu.Lock()
	err := n.applyLocked(&b, true)
	n.mu.Unlock()
	switch {
	case errors.Is(err, errOrphan):
		span.SetAttributes(keyResult.String("orphan"))
		go n.fetch(n.ctx, from, b.Header.Parent, false)
	case err != nil:
		span.SetAttributes(keyResult.String("rejected"))
		span.SetStatus(codes.Error, err.Error())
		n.clog.Debug("block rejected", "block", b.ID(), "peer", n.net.Name(from), "err", err)
	default:
		span.SetAttributes(keyResult.String("applied"))
	}
}

// OnTx implements p2p.Handler.
func (h *handler) OnTx(from peer.ID, data []byte) {
	n := (*Node)(h)
	var tx wire.Tx
	if n.bugOn(bugDropTransactions) || json.Unmarshal(data, &tx) != nil {
		return
	}
	_, _ = n.admit(&tx)
}

// SyncTip implements p2p.Handler.
func (h *handler) SyncTip() nodeapi.Hash {
	n := (*Node)(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tree.Tip().ID
}

// SyncBlocks implements p2p.Handler.
func (h *handler) SyncBlocks(id nodeapi.Hash, max int) []wire.Block {
	n := (*Node)(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []wire.Block
	for len(out) < max {
		b, ok := n.blocks[id]
		if !ok || b.Header.Slot == 0 {
			break
		}
		out = append(out, *b)
		id = b.Header.Parent
	}
	return out
}

// OnPeer implements p2p.Handler.
func (h *handler) OnPeer(p peer.ID) {
	n := (*Node)(h)
	if n.started() {
		n.syncPeer(n.ctx, p)
	}
}

// admit checks a transaction against the tip and adds it to the mempool.
// It reports whether the tx is new.
func (n *Node) admit(tx *wire.Tx) (bool, error) {
	h, err := n.checkTx(tx)
	if err != nil || n.pool.Has(h) {
		return false, err
	}
	if !n.pool.Add(h, *tx) {
		return false, nil
	}
	n.metrics.mempool.Set(float64(n.pool.Len()))
	return true, nil
}

// checkTx checks a transaction on its own and against the tip; a tx the
// tip refuses is marked rejected. It returns the tx hash.
func (n *Node) checkTx(tx *wire.Tx) (nodeapi.Hash, error) {
	if err := ledger.CheckStateless(tx); err != nil {
		return nodeapi.Hash{}, err
	}
	h := tx.Hash()
	if n.pool.Has(h) {
		return h, nil
	}
	n.mu.Lock()
	st := n.states[n.tree.Tip().ID]
	err := st.Check(tx, h)
	n.mu.Unlock()
	if err != nil {
		n.pool.Reject(h)
	}
	return h, err
}
