package node

import (
	"time"

	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// The rejoin switch (config testing.rejoin_below_lib, off by default) is a
// test convenience with no Cryptarchia equivalent. An Online node never
// follows a fork deeper than k, so a node that ended up on a minority fork
// (a partition longer than k, or slot races at a high active slot
// coefficient with a small k) stays there until it is restarted and
// bootstraps again. With the switch on it does not wait for the restart:
// it re-enters Bootstrapping at once and its LIB moves back, which a real
// node never does and a safety checker reports.

// rejoinLead is how many blocks a peer's chain must lead this node's tip by
// before a fork below the LIB makes the node re-enter Bootstrapping. A lead
// of one block is often a slot race that the next slot undoes; two keeps
// the node from giving up its LIB for such a race.
const rejoinLead = 2

// rejoinLocked handles a chain downloaded from a peer (tip first, the
// parent of its oldest block known) when the rejoin switch is on. When the
// peer's chain forks below the LIB and is longer by rejoinLead blocks, the
// node re-enters Bootstrapping with the LIB moved back to the fork point,
// follows the longest chain, and turns Online again after the prolonged
// bootstrap period. It reports whether it re-bootstrapped.
func (n *Node) rejoinLocked(chain []wire.Block) bool {
	if len(chain) == 0 || !n.tree.Online() {
		return false
	}
	fork, ok := n.tree.Get(chain[len(chain)-1].Header.Parent)
	if !ok || !n.tree.BelowLIB(fork.ID) {
		return false
	}
	tip := n.tree.Tip()
	peerHeight := fork.Height + uint64(len(chain))
	if peerHeight < tip.Height+rejoinLead {
		return false
	}
	oldLIB := n.tree.LIB()
	n.tree.Rebootstrap(fork.ID)
	n.bootGen++
	n.clog.Warn("on a fork below the LIB behind a longer chain: mode Bootstrapping, LIB moved back (testing.rejoin_below_lib)",
		"tip_height", tip.Height, "peer_height", peerHeight, "fork_height", fork.Height,
		"old_lib", oldLIB.ID, "old_lib_height", oldLIB.Height, "lib", n.tree.LIB().ID)
	n.afterChangeLocked()
	if n.ctx != nil {
		go n.onlineAfter(n.bootGen)
	}
	return true
}

// onlineAfter turns the node Online after the prolonged bootstrap period,
// unless another rejoin started a newer Bootstrapping phase since (gen).
func (n *Node) onlineAfter(gen uint64) {
	if ctxtime.Sleep(n.ctx, time.Duration(n.cfg.Cryptarchia.Service.Bootstrap.ProlongedBootstrapPeriod)) != nil || n.waitApplying(n.ctx) != nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if gen != n.bootGen || n.tree.Online() {
		return
	}
	n.tree.SetOnline()
	n.afterChangeLocked()
	n.clog.Info("mode Online", "lib", n.tree.LIB().ID, "lib_height", n.tree.LIB().Height)
}
