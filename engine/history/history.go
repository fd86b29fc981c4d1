// Package history records what a run observed and judges it.
//
// The engine feeds a History while the run goes on: every poll of every node
// (Observe when it answered, Unreachable when it did not), every block it
// learned of on any branch (AddBlock), every fault window (AddFault), every
// restart (AddRestart) and the run window (SetWindow). Afterwards
// CheckSafety and CheckLiveness judge the recorded history, never the end
// state alone: a verdict names what was seen, by whom and when.
//
// # Recording
//
// Block ids are interned once. A node's poll is stored only when its height,
// LIB, mode or reachability changed since its previous poll, so a sample's
// time is when the node first showed that state; the time of the node's last
// poll is kept apart. A node's height at time t is its last answered sample
// at or before t; before its first answer it is its first answered sample.
//
// # Safety
//
// Every pair of LIBs ever reported, by any node at any time, must be
// comparable: one an ancestor of (or equal to) the other. Rather than compare
// all pairs, the check picks a reference chain, the branch carrying most LIB
// sightings, and pairs each sighting off that chain with the on-chain
// sighting closest above it, preferring another node. Each node pair is
// reported once, for its earliest sighting.
//
// Per node, each new LIB must be comparable with the highest LIB the node
// reported before. Moving to a block that is not comparable is always a
// reversion. Moving back to a strict ancestor is a reversion unless the node
// restarted (AddRestart, or a "kill" fault ending) since it reported its
// previous LIB: a restarted node bootstraps again, and while it climbs back
// its LIB may only move forward. LIBs missing from the block tree, or whose
// ancestry does not reach height 0, are listed apart as unplaced.
//
// # Liveness
//
// Inside the window the network (the best height over the validators) must
// gain ceil(Tolerance × expected) blocks, where expected = window / Slot ×
// ActiveSlotCoeff. At evaluation (each validator's last poll) every
// validator must answer, be Online and be within Lag of the best height.
//
// A stall is a maximal part of the window during which a validator's height
// did not increase (or it did not answer), minus the fault windows that
// target the node and its restarts, each extended by a catch-up grace. A
// remaining piece longer than MaxStall block intervals (block interval =
// Slot / ActiveSlotCoeff; DefaultMaxStall when zero) during which the
// network's best height grew is a stall, provided the network's best height
// passed the node's more than MaxStall block intervals before the piece
// ended: a node polled a moment after the others when the whole network
// resumes is not stalled. The grace equals MaxStall block intervals. A
// whole-network halt is not a per-node stall: the network target reports it.
package history

import (
	"slices"
	"sync"
	"time"
)

// Observation is what one node reported in one poll.
type Observation struct {
	Height uint64
	Tip    string
	LIB    string
	// Mode is the node's consensus mode, "Online" or "Bootstrapping".
	Mode string
}

// ModeOnline is the mode of a node that follows the chain.
const ModeOnline = "Online"

// History is the record of one run. It is safe for concurrent use.
type History struct {
	mu       sync.Mutex
	ids      map[string]int32
	blocks   []block
	modes    []string
	modeIDs  map[string]uint16
	nodes    map[string]*series
	faults   []fault
	restarts []restart
	start    time.Duration
	end      time.Duration
	window   bool
}

// block is one interned block id; parent and height are known once added.
type block struct {
	id     string
	parent int32 // -1: none (genesis) or not yet known
	height uint64
	known  bool // AddBlock saw it
	seen   bool // a node reported it as tip or LIB
}

// sample is one change in a node's reported state: 24 bytes.
type sample struct {
	at     time.Duration
	height uint64
	lib    int32 // -1: no LIB reported
	mode   uint16
	down   bool // the node did not answer from at on
}

// series is one node's polls.
type series struct {
	name    string
	samples []sample
	last    time.Duration // time of the last poll, answered or not
	polls   int
	lastErr string
}

type fault struct {
	kind     string
	nodes    []string
	from, to time.Duration
}

type restart struct {
	node string
	at   time.Duration
}

// New returns an empty history.
func New() *History {
	return &History{
		ids:     map[string]int32{},
		modes:   []string{""},
		modeIDs: map[string]uint16{"": 0},
		nodes:   map[string]*series{},
	}
}

// Observe records that node answered a poll at offset at since the run
// started. Calls for one node come with nondecreasing at; an earlier time is
// taken as the node's previous one.
func (h *History) Observe(node string, at time.Duration, o Observation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series(node, at)
	if o.Tip != "" {
		h.blocks[h.intern(o.Tip)].seen = true
	}
	x := sample{at: s.last, height: o.Height, lib: -1, mode: h.mode(o.Mode)}
	if o.LIB != "" {
		x.lib = h.intern(o.LIB)
		h.blocks[x.lib].seen = true
	}
	if n := len(s.samples); n > 0 {
		p := s.samples[n-1]
		if !p.down && p.height == x.height && p.lib == x.lib && p.mode == x.mode {
			return
		}
	}
	s.samples = append(s.samples, x)
}

// Unreachable records that node did not answer the poll at offset at.
func (h *History) Unreachable(node string, at time.Duration, err string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series(node, at)
	s.lastErr = err
	if n := len(s.samples); n > 0 && s.samples[n-1].down {
		return
	}
	s.samples = append(s.samples, sample{at: s.last, lib: -1, down: true})
}

// AddBlock records a block of any branch. A block at height 0 is a root.
func (h *History) AddBlock(id, parent string, height uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := int32(-1)
	if height > 0 && parent != "" {
		p = h.intern(parent)
	}
	b := &h.blocks[h.intern(id)]
	b.parent, b.height, b.known = p, height, true
}

// Height returns the height of a block added with AddBlock.
func (h *History) Height(id string) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.ids[id]
	if !ok || !h.blocks[i].known {
		return 0, false
	}
	return h.blocks[i].height, true
}

// AddFault records a fault of the given kind targeting nodes from from to
// to (offsets since the run started). A "kill" fault ends with the nodes'
// restart. A fault whose end is before its start has no known end: it lasts
// past the window.
func (h *History) AddFault(kind string, nodes []string, from, to time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, fault{kind: kind, nodes: slices.Clone(nodes), from: from, to: to})
}

// AddRestart records that node was restarted at offset at.
func (h *History) AddRestart(node string, at time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.restarts = append(h.restarts, restart{node: node, at: at})
}

// SetWindow sets the run window (the drive phase). Liveness judges progress
// inside it and the nodes' state at their last poll after it. Without a
// window the checks use 0 to the last poll.
func (h *History) SetWindow(start, end time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start, h.end, h.window = start, end, true
}

// Nodes returns the names of the nodes polled so far, sorted.
func (h *History) Nodes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nodeNames()
}

// Missing returns, sorted, the block ids to fetch before checking: every
// tip or LIB a node reported that is not in the block tree, and for a
// reported block whose ancestry stops short of height 0, the first unknown
// ancestor. Fetching a block and adding it (and its parents down to a known
// block) with AddBlock removes it from the list.
func (h *History) Missing() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	gaps := h.gaps()
	var out []string
	done := make([]bool, len(h.blocks))
	for i, b := range h.blocks {
		if g := gaps[i]; b.seen && g >= 0 && !done[g] {
			done[g] = true
			out = append(out, h.blocks[g].id)
		}
	}
	slices.Sort(out)
	return out
}

// series returns node's series with its last poll time moved to at.
func (h *History) series(node string, at time.Duration) *series {
	s := h.nodes[node]
	if s == nil {
		s = &series{name: node, last: at}
		h.nodes[node] = s
	}
	s.last = max(s.last, at) // keep samples sorted even if a caller is late
	s.polls++
	return s
}

func (h *History) intern(id string) int32 {
	if i, ok := h.ids[id]; ok {
		return i
	}
	i := int32(len(h.blocks))
	h.ids[id] = i
	h.blocks = append(h.blocks, block{id: id, parent: -1})
	return i
}

// mode interns a mode name; past 65535 distinct names the rest read as "".
func (h *History) mode(m string) uint16 {
	if i, ok := h.modeIDs[m]; ok {
		return i
	}
	if len(h.modes) > 0xffff {
		return 0
	}
	i := uint16(len(h.modes))
	h.modeIDs[m] = i
	h.modes = append(h.modes, m)
	return i
}

func (h *History) nodeNames() []string {
	names := make([]string, 0, len(h.nodes))
	for n := range h.nodes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// restartTimes returns when node restarted: restarts and kill-fault ends.
func (h *History) restartTimes(node string) []time.Duration {
	var ts []time.Duration
	for _, r := range h.restarts {
		if r.node == node {
			ts = append(ts, r.at)
		}
	}
	for _, f := range h.faults {
		if f.kind == "kill" && f.to >= f.from && slices.Contains(f.nodes, node) {
			ts = append(ts, f.to)
		}
	}
	slices.Sort(ts)
	return ts
}

// heightAt is the node's height at t: its last answered sample at or before
// t, else its first answered sample after t.
func (s *series) heightAt(t time.Duration) (uint64, bool) {
	i, _ := slices.BinarySearchFunc(s.samples, t, func(x sample, t time.Duration) int {
		if x.at <= t {
			return -1
		}
		return 1
	})
	for j := i - 1; j >= 0; j-- {
		if !s.samples[j].down {
			return s.samples[j].height, true
		}
	}
	for j := i; j < len(s.samples); j++ {
		if !s.samples[j].down {
			return s.samples[j].height, true
		}
	}
	return 0, false
}

// lastAnswer is the node's last answered sample.
func (s *series) lastAnswer() (sample, bool) {
	for j := len(s.samples) - 1; j >= 0; j-- {
		if !s.samples[j].down {
			return s.samples[j], true
		}
	}
	return sample{}, false
}
