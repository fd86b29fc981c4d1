// Package feed follows the chain of one or more nodes and hands every block
// to subscribers exactly once per adoption.
//
// Each poll asks every followed node for its tip, then walks parents with
// /storage/block down to a block already known. The feed keeps a block tree
// and a canonical chain (the highest tip seen; ties keep the current chain).
// When the canonical chain switches branch, the blocks of the abandoned branch
// are reported as Orphaned before the new branch's blocks are Added, so a
// subscriber that counts transactions never counts a block twice.
package feed

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// Source is the part of a node client the feed needs.
type Source interface {
	Info(ctx context.Context) (nodeapi.Info, error)
	Block(ctx context.Context, id string) (*nodeapi.Block, error)
}

// Kind says what happened to a block.
type Kind int

// The event kinds.
const (
	// Added: the block joined the canonical chain.
	Added Kind = iota
	// Orphaned: the block left the canonical chain (its fork was abandoned).
	Orphaned
)

// String names the kind ("added", "orphaned").
func (k Kind) String() string {
	if k == Orphaned {
		return "orphaned"
	}
	return "added"
}

// Event is one block joining or leaving the canonical chain.
type Event struct {
	Kind   Kind
	ID     string
	Height uint64
	Block  *nodeapi.Block
}

// Stats summarises what the feed has seen.
type Stats struct {
	// Blocks is the canonical chain length seen (blocks above genesis).
	Blocks int `json:"blocks"`
	// Orphaned counts blocks that left the canonical chain.
	Orphaned int `json:"orphaned"`
	// Transactions is the number of transactions in canonical blocks above
	// genesis.
	Transactions int `json:"transactions"`
	// Height is the canonical tip height.
	Height uint64 `json:"height"`
}

// NodeState is the latest consensus info of one followed node.
type NodeState struct {
	Info  nodeapi.Info
	Err   error
	At    time.Time
	Valid bool
}

type entry struct {
	id     string
	parent string
	height uint64
	block  *nodeapi.Block
}

// maxWalk bounds one catch-up walk so a broken node cannot loop the feed.
const maxWalk = 100_000

// Feed follows nodes. It is safe for concurrent use.
type Feed struct {
	names   []string
	sources map[string]Source
	log     *slog.Logger

	mu        sync.Mutex
	tree      map[string]*entry
	canon     []string // canonical chain ids by height (index = height)
	canonSet  map[string]bool
	subs      []func(Event)
	stats     Stats
	nodes     map[string]NodeState
	observers []func(node string, s NodeState)

	// deliver orders the delivery of node states: polls overlap (the
	// polling loop and a caller's Poll), and a slow node can make an older
	// poll finish last. Its states are older than those already delivered
	// and are dropped, so a node's states reach observers in time order.
	deliver sync.Mutex
}

// New returns a feed following the named sources (in name order).
func New(sources map[string]Source, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return &Feed{
		names: names, sources: sources, log: log,
		tree: map[string]*entry{}, canonSet: map[string]bool{}, nodes: map[string]NodeState{},
	}
}

// Subscribe registers fn for every later event. fn runs on the polling
// goroutine with the feed unlocked; it must not block for long.
func (f *Feed) Subscribe(fn func(Event)) {
	f.mu.Lock()
	f.subs = append(f.subs, fn)
	f.mu.Unlock()
}

// OnNode registers fn, called after each poll of a node with its state.
func (f *Feed) OnNode(fn func(node string, s NodeState)) {
	f.mu.Lock()
	f.observers = append(f.observers, fn)
	f.mu.Unlock()
}

// Stats returns a copy of the current stats.
func (f *Feed) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Nodes returns the latest state of every followed node.
func (f *Feed) Nodes() map[string]NodeState {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]NodeState, len(f.nodes))
	for k, v := range f.nodes {
		out[k] = v
	}
	return out
}

// Canonical returns the ids of the canonical chain, genesis first.
func (f *Feed) Canonical() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.canon...)
}

// Lookup returns a known block's parent and height.
func (f *Feed) Lookup(id string) (parent string, height uint64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.tree[id]
	if e == nil {
		return "", 0, false
	}
	return e.parent, e.height, true
}

// Block returns a fetched block and its height.
func (f *Feed) Block(id string) (*nodeapi.Block, uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.tree[id]
	if e == nil {
		return nil, 0, false
	}
	return e.block, e.height, true
}

// EachBlock calls fn for every block the feed has fetched, on every branch
// (canonical or not), in no particular order. fn must not call the feed.
func (f *Feed) EachBlock(fn func(id, parent string, height uint64)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.tree {
		fn(e.id, e.parent, e.height)
	}
}

// Genesis returns the genesis block once the feed has walked down to it.
func (f *Feed) Genesis() (*nodeapi.Block, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.canon) == 0 || f.canon[0] == "" {
		return nil, false
	}
	return f.tree[f.canon[0]].block, true
}

// Run polls every interval until ctx ends.
func (f *Feed) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll catches up with every followed node once (all nodes concurrently,
// so one frozen node does not delay the others) and reconciles the
// canonical chain. Node errors are recorded in Nodes, not returned: a killed
// node must not stop the feed. It returns the number of nodes that answered.
func (f *Feed) Poll(ctx context.Context) int {
	states := make([]NodeState, len(f.names))
	var wg sync.WaitGroup
	for i, name := range f.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := NodeState{At: time.Now()}
			info, err := f.sources[name].Info(ctx)
			if err == nil {
				st.Info, st.Valid = info, true
				err = f.catchUp(ctx, f.sources[name], info)
			}
			if err != nil {
				st.Err = err
				f.log.Debug("feed poll", "node", name, "err", err)
			}
			states[i] = st
		}()
	}
	wg.Wait()
	answered := 0
	for _, st := range states {
		if st.Valid {
			answered++
		}
	}
	f.deliverStates(states)
	f.reconcile()
	return answered
}

// deliverStates records each node's state and hands it to the observers,
// unless a poll that started later has already delivered one.
func (f *Feed) deliverStates(states []NodeState) {
	f.deliver.Lock()
	defer f.deliver.Unlock()
	fresh := make([]bool, len(states))
	f.mu.Lock()
	for i, name := range f.names {
		if prev, ok := f.nodes[name]; !ok || !states[i].At.Before(prev.At) {
			f.nodes[name], fresh[i] = states[i], true
		}
	}
	obs := append([]func(string, NodeState){}, f.observers...)
	f.mu.Unlock()
	for i, name := range f.names {
		if !fresh[i] {
			continue
		}
		for _, fn := range obs {
			fn(name, states[i])
		}
	}
}

// catchUp walks back from the node's tip until a known block or genesis.
func (f *Feed) catchUp(ctx context.Context, src Source, info nodeapi.Info) error {
	id, height := info.Tip, info.Height
	var walked []*entry
	// Keep what was fetched even when the walk fails half way: the blocks
	// are valid, and the next poll resumes from them.
	defer func() {
		f.mu.Lock()
		for _, e := range walked {
			f.tree[e.id] = e
		}
		f.mu.Unlock()
	}()
	for i := 0; i < maxWalk; i++ {
		if id == "" || id == nodeapi.GenesisParent {
			break
		}
		f.mu.Lock()
		e, known := f.tree[id]
		done := known && (e.height == 0 || f.canonSet[id])
		f.mu.Unlock()
		if done {
			break
		}
		if known { // fetched before: skip down to the first unknown ancestor
			id, height = e.parent, e.height-1
			continue
		}
		b, err := src.Block(ctx, id)
		if err != nil {
			return fmt.Errorf("catch up: block %s: %w", short(id), err)
		}
		if b == nil {
			return fmt.Errorf("missing block %s while catching up", short(id))
		}
		walked = append(walked, &entry{id: id, parent: b.Header.Parent, height: height, block: b})
		if height == 0 {
			break
		}
		id, height = b.Header.Parent, height-1
	}
	return nil
}

// reconcile moves the canonical chain to the best known tip and emits events.
func (f *Feed) reconcile() {
	f.mu.Lock()
	best := f.bestTip()
	var events []Event
	head := ""
	if len(f.canon) > 0 {
		head = f.canon[len(f.canon)-1]
	}
	// Longest chain wins; a tie keeps the current chain.
	if best != nil && best.id != head && (head == "" || best.height > f.stats.Height) {
		events = f.switchTo(best)
	}
	subs := append([]func(Event){}, f.subs...)
	f.mu.Unlock()
	for _, ev := range events {
		for _, fn := range subs {
			fn(ev)
		}
	}
}

// bestTip is the highest tip reported by a node whose chain is fully known.
func (f *Feed) bestTip() *entry {
	var best *entry
	for _, name := range f.names {
		st := f.nodes[name]
		if !st.Valid {
			continue
		}
		e := f.tree[st.Info.Tip]
		if e == nil || !f.complete(e) {
			continue
		}
		if best == nil || e.height > best.height {
			best = e
		}
	}
	return best
}

// complete reports whether e's ancestry reaches genesis or the canonical chain.
func (f *Feed) complete(e *entry) bool {
	for i := 0; e != nil && i < maxWalk; i++ {
		if f.canonSet[e.id] || e.height == 0 || e.parent == nodeapi.GenesisParent {
			return true
		}
		e = f.tree[e.parent]
	}
	return false
}

// switchTo makes tip the canonical head; f.mu is held.
func (f *Feed) switchTo(tip *entry) []Event {
	var path []*entry // new blocks, newest first
	e := tip
	for e != nil && !f.canonSet[e.id] {
		path = append(path, e)
		if e.height == 0 {
			break
		}
		e = f.tree[e.parent]
	}
	// Fork point: the height above which the old canonical chain is abandoned.
	keep := 0
	if e != nil && f.canonSet[e.id] {
		keep = int(e.height) + 1
	}
	var events []Event
	for h := len(f.canon) - 1; h >= keep; h-- {
		old := f.tree[f.canon[h]]
		delete(f.canonSet, old.id)
		f.stats.Orphaned++
		f.stats.Transactions -= workloadTxs(old)
		events = append(events, Event{Kind: Orphaned, ID: old.id, Height: old.height, Block: old.block})
	}
	if keep < len(f.canon) {
		f.canon = f.canon[:keep]
	}
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		for uint64(len(f.canon)) < n.height {
			f.canon = append(f.canon, "") // below the first block seen
		}
		f.canon = append(f.canon, n.id)
		f.canonSet[n.id] = true
		f.stats.Transactions += workloadTxs(n)
		events = append(events, Event{Kind: Added, ID: n.id, Height: n.height, Block: n.block})
	}
	f.stats.Height = tip.height
	f.stats.Blocks = int(tip.height)
	return events
}

// workloadTxs counts a block's transactions for the chain statistics; the
// genesis block's transactions set up the ledger and are nobody's load.
func workloadTxs(e *entry) int {
	if e.height == 0 {
		return 0
	}
	return len(e.block.Transactions)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
