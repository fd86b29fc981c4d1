package consensus

import (
	"errors"
	"fmt"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// Branch is a block's place in the tree.
type Branch struct {
	ID, Parent nodeapi.Hash
	Slot       uint64
	Height     uint64 // genesis = 0
}

// Errors of Tree.Add.
var (
	ErrUnknownParent = errors.New("unknown parent")
	ErrBadSlot       = errors.New("slot not after the parent's slot")
	ErrBelowLIB      = errors.New("block forks before the last immutable block")
)

// Tree is the block tree of one node. It is not safe for concurrent use.
type Tree struct {
	k       uint64
	online  bool
	revert  bool // Online fork choice ignores the k-deep rule (SetRevertFinalized)
	blocks  map[nodeapi.Hash]*Branch
	main    []nodeapi.Hash // the selected chain by height, main[0] = genesis
	lib     uint64         // height of the LIB on main
	reorgs  int
	maxDrop uint64
}

// NewTree returns a tree holding only genesis, with security parameter k.
func NewTree(genesis nodeapi.Hash, k int) *Tree {
	t := &Tree{k: uint64(k), blocks: map[nodeapi.Hash]*Branch{}}
	t.blocks[genesis] = &Branch{ID: genesis}
	t.main = []nodeapi.Hash{genesis}
	return t
}

// Has reports whether the tree holds id.
func (t *Tree) Has(id nodeapi.Hash) bool { _, ok := t.blocks[id]; return ok }

// Get returns the branch of id.
func (t *Tree) Get(id nodeapi.Hash) (*Branch, bool) { b, ok := t.blocks[id]; return b, ok }

// Tip is the head of the selected chain.
func (t *Tree) Tip() *Branch { return t.blocks[t.main[len(t.main)-1]] }

// LIB is the last immutable block.
func (t *Tree) LIB() *Branch { return t.blocks[t.main[t.lib]] }

// Genesis is the first block.
func (t *Tree) Genesis() *Branch { return t.blocks[t.main[0]] }

// Online reports the mode.
func (t *Tree) Online() bool { return t.online }

// Reorgs counts switches of the selected chain to another branch.
func (t *Tree) Reorgs() int { return t.reorgs }

// OnMain reports whether id is on the selected chain.
func (t *Tree) OnMain(id nodeapi.Hash) bool {
	b, ok := t.blocks[id]
	return ok && b.Height < uint64(len(t.main)) && t.main[b.Height] == id
}

// MainAt is the id at height on the selected chain.
func (t *Tree) MainAt(h uint64) (nodeapi.Hash, bool) {
	if h >= uint64(len(t.main)) {
		return nodeapi.Hash{}, false
	}
	return t.main[h], true
}

// Ancestor is the ancestor of id at height h (id itself at its height).
func (t *Tree) Ancestor(id nodeapi.Hash, h uint64) (*Branch, bool) {
	b, ok := t.blocks[id]
	for ok && b.Height > h {
		if t.OnMain(b.ID) {
			return t.blocks[t.main[h]], true
		}
		b, ok = t.blocks[b.Parent]
	}
	return b, ok && b.Height == h
}

// SetOnline switches to Online and recomputes the LIB.
func (t *Tree) SetOnline() {
	t.online = true
	t.updateLIB()
}

// SetRevertFinalized makes an Online tree ignore the k-deep rule, for
// fault injection only: fork choice follows the longest chain at any depth
// and the LIB moves back to the fork point when the chain switches (a
// finality reversion).
func (t *Tree) SetRevertFinalized(on bool) { t.revert = on }

// anyDepth reports whether fork choice follows the longest chain at any
// depth: while Bootstrapping (also below a LIB restored from disk), or
// with SetRevertFinalized.
func (t *Tree) anyDepth() bool { return !t.online || t.revert }

// Rebootstrap re-enters Bootstrapping at once (the node's opt-in rejoin
// switch) after the node found itself on a fork that split from a longer
// chain below its LIB: the LIB falls back to where the branch of fork meets
// the selected chain, so the longest chain is followed from there;
// SetOnline ends Bootstrapping again.
func (t *Tree) Rebootstrap(fork nodeapi.Hash) {
	t.online = false
	b, ok := t.blocks[fork]
	for ok && !t.OnMain(b.ID) {
		b, ok = t.blocks[b.Parent]
	}
	if ok && b.Height < t.lib {
		t.lib = b.Height
	}
}

// BelowLIB reports whether a block whose parent is id would fork before the
// LIB (an Online Add refuses it with ErrBelowLIB).
func (t *Tree) BelowLIB(id nodeapi.Hash) bool {
	lib := t.LIB()
	anc, ok := t.Ancestor(id, lib.Height)
	return !ok || anc.ID != lib.ID
}

// Refuses reports whether Add refuses a block whose parent is id because
// it forks before the LIB: only an Online tree does.
func (t *Tree) Refuses(id nodeapi.Hash) bool { return !t.anyDepth() && t.BelowLIB(id) }

// RestoreLIB sets the LIB to id (recovery from disk); id must be on main.
// The tree stays Bootstrapping, so a longer chain that forks below the
// restored LIB is still followed (and moves the LIB back to the fork point).
func (t *Tree) RestoreLIB(id nodeapi.Hash) {
	if t.OnMain(id) && t.blocks[id].Height > t.lib {
		t.lib = t.blocks[id].Height
	}
}

// Add inserts a block whose parent is known and runs fork choice. It
// reports whether the selected tip changed.
func (t *Tree) Add(b Branch) (bool, error) {
	if _, ok := t.blocks[b.ID]; ok {
		return false, nil
	}
	p, ok := t.blocks[b.Parent]
	if !ok {
		return false, ErrUnknownParent
	}
	if b.Slot <= p.Slot {
		return false, ErrBadSlot
	}
	b.Height = p.Height + 1
	if t.Refuses(p.ID) {
		return false, ErrBelowLIB
	}
	t.blocks[b.ID] = &b
	return t.choose(&b), nil
}

// choose applies longest-chain fork choice to a new leaf: switch iff it is
// strictly longer and, when Online, the current chain's depth since their
// common ancestor is at most k (Praos maxvalid_mc). Bootstrapping nodes
// follow the longest chain at any depth; when the new chain leaves the
// selected one below the LIB (a LIB restored from disk, or
// SetRevertFinalized), the LIB moves back to the fork point.
func (t *Tree) choose(b *Branch) bool {
	tip := t.Tip()
	if b.Height <= tip.Height {
		return false
	}
	// Walk b back to the selected chain.
	path := []*Branch{}
	cur := b
	for !t.OnMain(cur.ID) {
		path = append(path, cur)
		cur = t.blocks[cur.Parent]
	}
	if depth := tip.Height - cur.Height; !t.anyDepth() && depth > t.k {
		return false
	}
	if cur.ID != tip.ID {
		t.reorgs++
		if d := tip.Height - cur.Height; d > t.maxDrop {
			t.maxDrop = d
		}
	}
	t.main = t.main[:cur.Height+1]
	if t.lib > cur.Height {
		t.lib = cur.Height
	}
	for i := len(path) - 1; i >= 0; i-- {
		t.main = append(t.main, path[i].ID)
	}
	t.updateLIB()
	return true
}

func (t *Tree) updateLIB() {
	if !t.online {
		return
	}
	tip := uint64(len(t.main) - 1)
	if tip >= t.k && tip-t.k > t.lib {
		t.lib = tip - t.k
	}
}

// Headers walks from `from` back to `to` (or the LIB), at most limit ids,
// tip first, as GET /cryptarchia/headers.
func (t *Tree) Headers(from, to nodeapi.Hash, limit int) ([]nodeapi.Hash, error) {
	b, ok := t.blocks[from]
	if !ok {
		return nil, fmt.Errorf("unknown block %s", from)
	}
	lib := t.LIB().ID
	var out []nodeapi.Hash
	for len(out) < limit {
		out = append(out, b.ID)
		if b.ID == to || b.ID == lib || b.Height == 0 {
			break
		}
		b = t.blocks[b.Parent]
	}
	return out, nil
}

// MaxReorgDepth is the deepest rollback the selected chain has done.
func (t *Tree) MaxReorgDepth() uint64 { return t.maxDrop }
