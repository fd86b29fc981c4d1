package history

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sighting is the first time Node reported ID as its LIB.
type Sighting struct {
	Node   string
	ID     string
	Height uint64
	At     time.Duration
}

// Conflict is two LIBs of which neither is an ancestor of the other; A was
// seen no later than B.
type Conflict struct {
	A, B Sighting
}

// Reversion is a node's LIB moving to a block that does not descend from
// its earlier LIB. From and To carry the times the node moved to each.
type Reversion struct {
	Node     string
	From, To Sighting
	// Back is set when To is a strict ancestor of From: the LIB moved back
	// along one chain without a restart in between.
	Back bool
}

// Safety is the verdict of CheckSafety.
type Safety struct {
	// LIBs counts the distinct (node, LIB) sightings checked.
	LIBs       int
	Conflicts  []Conflict
	Reversions []Reversion
	// Unplaced are LIBs not in the block tree (or whose ancestry does not
	// reach height 0), each once with its earliest sighting; not checked.
	Unplaced []Sighting
}

// maxLines caps each list in an error message.
const maxLines = 10

// Err returns nil when no two LIBs conflict and no LIB moved back, else
// one message naming the nodes, blocks, heights and times.
func (s Safety) Err() error {
	if len(s.Conflicts) == 0 && len(s.Reversions) == 0 {
		return nil
	}
	return errors.New("consensus safety violated (" + fmt.Sprint(s.LIBs) + " LIB sightings checked):\n- " +
		strings.Join(s.Problems(), "\n- "))
}

// Problems returns one line per conflict and reversion (lists capped),
// plus one for the unplaced LIBs; empty when there is nothing to report.
func (s Safety) Problems() []string {
	var lines []string
	for _, c := range s.Conflicts {
		lines = append(lines, fmt.Sprintf("%s LIB %s and %s LIB %s are on different chains",
			c.A.Node, sightingText(c.A), c.B.Node, sightingText(c.B)))
	}
	lines = capLines(lines)
	var revs []string
	for _, r := range s.Reversions {
		if r.Back {
			revs = append(revs, fmt.Sprintf("%s LIB moved back from %s to its ancestor %s with no restart in between",
				r.Node, sightingText(r.From), sightingText(r.To)))
		} else {
			revs = append(revs, fmt.Sprintf("%s LIB moved from %s to %s, which does not descend from it",
				r.Node, sightingText(r.From), sightingText(r.To)))
		}
	}
	lines = append(lines, capLines(revs)...)
	if n := len(s.Unplaced); n > 0 {
		u := s.Unplaced[0]
		lines = append(lines, fmt.Sprintf("%d LIB(s) not in the block tree were not checked (first: %s LIB %s at %s)",
			n, u.Node, short(u.ID), secs(u.At)))
	}
	return lines
}

// sightingText reads "3fa2c1d0e9ab (height 12, seen at 3.0s)".
func sightingText(s Sighting) string {
	return fmt.Sprintf("%s (height %d, seen at %s)", short(s.ID), s.Height, secs(s.At))
}

func capLines(lines []string) []string {
	if len(lines) <= maxLines {
		return lines
	}
	return append(lines[:maxLines:maxLines], fmt.Sprintf("and %d more", len(lines)-maxLines))
}

// sight is a sighting by node index, resolved to a Sighting for the verdict.
type sight struct {
	node int32
	lib  int32
	at   time.Duration
}

// CheckSafety judges every LIB the history recorded; see the package doc.
func CheckSafety(h *History) Safety {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := safetyCheck{h: h, t: newTree(h), names: h.nodeNames()}
	// stamp[b] == k marks b sighted in the current node's pass (k unique per
	// node and pass), so no per-node set is needed.
	c.stamp = make([]int32, len(h.blocks))
	c.weigh()
	c.t.chooseChain(c.weight)
	c.first = make([][2]sight, len(c.t.chain))
	for i := range c.first {
		c.first[i] = [2]sight{{lib: -1}, {lib: -1}}
	}
	for i, name := range c.names {
		c.walk(int32(i), h.nodes[name])
	}
	c.conflicts()
	return c.res
}

type safetyCheck struct {
	h      *History
	t      *tree
	names  []string
	stamp  []int32
	weight []int64
	first  [][2]sight // per chain height: earliest sighting, earliest by another node
	off    []sight    // sightings off the reference chain
	res    Safety
}

// newSighting reports whether this is node's first sighting of lib in pass.
func (c *safetyCheck) newSighting(node int32, pass int, lib int32) bool {
	k := int32(pass*len(c.names)) + node + 1
	if c.stamp[lib] == k {
		return false
	}
	c.stamp[lib] = k
	return true
}

// weigh counts each node's distinct LIBs per block and lists unplaced ones.
func (c *safetyCheck) weigh() {
	c.weight = make([]int64, len(c.h.blocks))
	unplaced := map[int32]sight{}
	for i, name := range c.names {
		for _, x := range c.h.nodes[name].samples {
			if x.down || x.lib < 0 || !c.newSighting(int32(i), 0, x.lib) {
				continue
			}
			if !c.t.rooted(x.lib) {
				if u, ok := unplaced[x.lib]; !ok || x.at < u.at {
					unplaced[x.lib] = sight{int32(i), x.lib, x.at}
				}
				continue
			}
			c.res.LIBs++
			c.weight[x.lib]++
		}
	}
	for _, u := range unplaced {
		c.res.Unplaced = append(c.res.Unplaced, c.sighting(u))
	}
	slices.SortFunc(c.res.Unplaced, func(a, b Sighting) int {
		return cmp.Or(cmp.Compare(a.At, b.At), strings.Compare(a.ID, b.ID))
	})
}

// walk checks one node's LIB moves and files its sightings for the
// conflict pass.
func (c *safetyCheck) walk(node int32, s *series) {
	t := c.t
	restarts := c.h.restartTimes(s.name)
	restartedIn := func(from, to time.Duration) bool {
		i, _ := slices.BinarySearch(restarts, from+1)
		return i < len(restarts) && restarts[i] <= to
	}
	top, prev := sight{lib: -1}, sight{lib: -1}
	recovering := false // after a restart the LIB climbs back below top
	for _, x := range s.samples {
		if x.down || x.lib < 0 || x.lib == prev.lib || !t.rooted(x.lib) {
			continue
		}
		cur := sight{node, x.lib, x.at}
		if c.newSighting(node, 1, x.lib) {
			c.file(cur)
		}
		last := prev
		prev = cur
		switch {
		case top.lib < 0:
			top = cur
		case x.lib == top.lib:
			recovering = false
		case !t.onOneChain(top.lib, x.lib):
			c.revert(top, cur, false)
			top, recovering = cur, false
		case t.height(x.lib) > t.height(top.lib):
			top, recovering = cur, false
		case restartedIn(last.at, x.at):
			recovering = true
		case recovering && t.height(x.lib) > t.height(last.lib):
			// climbing back along top's chain after a restart
		case recovering:
			c.revert(last, cur, true)
		default:
			c.revert(top, cur, true)
			recovering = true // judge the following moves from here
		}
	}
}

func (c *safetyCheck) revert(from, to sight, back bool) {
	c.res.Reversions = append(c.res.Reversions, Reversion{
		Node: c.names[from.node], From: c.sighting(from), To: c.sighting(to), Back: back,
	})
}

// file records a first sighting: per chain height the earliest two by
// different nodes, or in the off-chain list.
func (c *safetyCheck) file(s sight) {
	if !c.t.on[s.lib] {
		c.off = append(c.off, s)
		return
	}
	f := &c.first[c.t.height(s.lib)]
	switch {
	case f[0].lib < 0:
		f[0] = s
	case s.at < f[0].at: // a node sights a block once, so s.node != f[0].node
		f[1], f[0] = f[0], s
	case f[1].lib < 0 || s.at < f[1].at:
		f[1] = s
	}
}

// conflicts pairs every off-chain sighting, earliest first, with the
// on-chain sighting of the closest height above its fork point, at or above
// its own height when there is one, and keeps the first per node pair.
func (c *safetyCheck) conflicts() {
	slices.SortStableFunc(c.off, func(a, b sight) int { return cmp.Compare(a.at, b.at) })
	seen := map[[2]int32]bool{}
	for _, s := range c.off {
		o, ok := c.counterpart(s)
		if !ok {
			continue
		}
		key := [2]int32{min(s.node, o.node), max(s.node, o.node)}
		if seen[key] {
			continue
		}
		seen[key] = true
		a, b := c.sighting(o), c.sighting(s)
		if b.At < a.At {
			a, b = b, a
		}
		c.res.Conflicts = append(c.res.Conflicts, Conflict{A: a, B: b})
	}
}

// counterpart finds an on-chain sighting by another node that conflicts
// with the off-chain sighting s: any on the chain above s's fork point.
func (c *safetyCheck) counterpart(s sight) (sight, bool) {
	fork := c.t.forkHeight(s.lib)
	q := max(int64(c.t.height(s.lib)), fork+1)
	pick := func(i int64) (sight, bool) {
		for _, f := range c.first[i] {
			if f.lib >= 0 && f.node != s.node {
				return f, true
			}
		}
		return sight{}, false
	}
	for i := q; i < int64(len(c.first)); i++ {
		if o, ok := pick(i); ok {
			return o, true
		}
	}
	for i := min(q, int64(len(c.first))) - 1; i > fork; i-- {
		if o, ok := pick(i); ok {
			return o, true
		}
	}
	return sight{}, false
}

func (c *safetyCheck) sighting(s sight) Sighting {
	b := c.h.blocks[s.lib]
	out := Sighting{Node: c.names[s.node], ID: b.id, At: s.at}
	if c.t.rooted(s.lib) {
		out.Height = b.height
	}
	return out
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// secs reads a duration as seconds since the run started: "12.5s".
func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
