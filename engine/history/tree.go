package history

import (
	"cmp"
	"slices"
)

// Results of gaps for a block whose ancestry does not end at an unknown id.
const (
	rooted int32 = -1 // the ancestry reaches height 0
	broken int32 = -2 // heights do not step down by one: nothing to fetch
)

// gaps returns, per block, rooted, broken or the first unknown block on its
// ancestry. Each block is walked once: a walk stops at the first block
// already resolved and hands its result down the path.
func (h *History) gaps() []int32 {
	const unset = -3
	out := make([]int32, len(h.blocks))
	for i := range out {
		out[i] = unset
	}
	var path []int32
	for i := range h.blocks {
		path = path[:0]
		b, res := int32(i), int32(unset)
		for res == unset {
			if out[b] != unset {
				res = out[b]
				break
			}
			path = append(path, b)
			x := h.blocks[b]
			switch p := x.parent; {
			case !x.known:
				res = b
			case x.height == 0:
				res = rooted
			case p < 0:
				res = b // added without its parent: fetch it again
			case h.blocks[p].known && h.blocks[p].height+1 != x.height:
				res = broken
			default:
				b = p
			}
		}
		for _, p := range path {
			out[p] = res
		}
	}
	return out
}

// tree is the block tree with a reference chain, built for one check.
type tree struct {
	blocks []block
	gap    []int32
	chain  []int32 // reference chain by height, from a root
	on     []bool  // block is on the reference chain
	fork   []int64 // memo: height of the highest on-chain ancestor, -1 none, -2 unset
}

func newTree(h *History) *tree {
	return &tree{blocks: h.blocks, gap: h.gaps()}
}

func (t *tree) rooted(b int32) bool { return b >= 0 && t.gap[b] == rooted }

func (t *tree) height(b int32) uint64 { return t.blocks[b].height }

// chooseChain makes the reference chain the branch carrying the most
// weight: from the heaviest root, step to the heaviest child while one
// carries weight. A block's weight counts itself and its descendants; ties
// go to the smaller id so the choice is deterministic.
func (t *tree) chooseChain(weight []int64) {
	var order []int32
	for i := range t.blocks {
		if t.rooted(int32(i)) {
			order = append(order, int32(i))
		}
	}
	// Children sit above their parents, so by decreasing height every
	// subtree is complete before its parent reads it.
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(t.height(b), t.height(a)) })
	sum := slices.Clone(weight)
	best := make([]int32, len(t.blocks))
	for i := range best {
		best[i] = -1
	}
	heavier := func(a, b int32) bool { // a beats b
		return b < 0 || sum[a] > sum[b] || sum[a] == sum[b] && t.blocks[a].id < t.blocks[b].id
	}
	top := int32(-1)
	for _, b := range order {
		if sum[b] == 0 {
			continue
		}
		if p := t.blocks[b].parent; p >= 0 {
			sum[p] += sum[b]
			if heavier(b, best[p]) {
				best[p] = b
			}
		} else if heavier(b, top) {
			top = b
		}
	}
	t.on = make([]bool, len(t.blocks))
	t.fork = make([]int64, len(t.blocks))
	for i := range t.fork {
		t.fork[i] = -2
	}
	for b := top; b >= 0; b = best[b] {
		t.chain = append(t.chain, b)
		t.on[b] = true
		t.fork[b] = int64(t.height(b))
	}
}

// forkHeight is the height of b's highest ancestor on the reference chain,
// -1 when b shares no block with it (another root).
func (t *tree) forkHeight(b int32) int64 {
	var path []int32
	res := int64(-1)
	for b >= 0 {
		if t.fork[b] != -2 {
			res = t.fork[b]
			break
		}
		path = append(path, b)
		b = t.blocks[b].parent
	}
	for _, p := range path {
		t.fork[p] = res
	}
	return res
}

// onOneChain reports whether one of two rooted blocks is an ancestor of, or
// equal to, the other.
func (t *tree) onOneChain(a, b int32) bool {
	if t.height(a) > t.height(b) {
		a, b = b, a
	}
	switch {
	case t.on[a] && t.on[b]:
		return true
	case t.on[a]:
		// b's on-chain ancestors are exactly the chain up to its fork point.
		return int64(t.height(a)) <= t.forkHeight(b)
	case t.on[b]:
		return false // an on-chain block has no off-chain ancestor
	}
	for t.height(b) > t.height(a) {
		b = t.blocks[b].parent
	}
	return a == b
}
