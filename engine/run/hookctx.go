package run

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/expect"
	"github.com/nomosrun/nomosrun/engine/faults"
	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// hookContext is the run as the scenario's hooks see and act on it
// (hooks.Context). Hooks run one at a time, but the engine's other
// goroutines read what they record, so its state is locked.
type hookContext struct {
	x      *execution
	faults *faults.Schedule
	codec  nodeclient.Codec
	start  time.Time // the drive phase start

	mu     sync.Mutex
	series map[string]int            // index in x.res.Series, by name
	faultN map[string]int            // faults started, by hook id
	spent  map[int]string            // wallets spent by hooks: the hook id
	counts map[string]map[string]int // transfers, by hook id
}

func newHookContext(x *execution, sched *faults.Schedule, codec nodeclient.Codec) *hookContext {
	return &hookContext{x: x, faults: sched, codec: codec, start: time.Now(),
		series: map[string]int{}, faultN: map[string]int{}, spent: map[int]string{}}
}

var _ hooks.Context = (*hookContext)(nil)

// Elapsed implements hooks.Context.
func (h *hookContext) Elapsed() time.Duration { return time.Since(h.start) }

// Slot implements hooks.Context: the highest slot a node reported.
func (h *hookContext) Slot() uint64 {
	var slot uint64
	for _, st := range h.x.feed.Nodes() {
		if st.Valid {
			slot = max(slot, st.Info.Slot)
		}
	}
	return slot
}

// Height implements hooks.Context.
func (h *hookContext) Height() uint64 { return h.x.feed.Stats().Height }

// Nodes implements hooks.Context.
func (h *hookContext) Nodes() []hooks.NodeState {
	states := h.x.feed.Nodes()
	out := make([]hooks.NodeState, len(h.x.nodes))
	for i, n := range h.x.nodes {
		st := states[n.Name]
		ns := hooks.NodeState{Name: n.Name, Role: n.Role}
		if st.Valid {
			ns.Height, ns.Slot, ns.Tip, ns.LIB, ns.Mode = st.Info.Height, st.Info.Slot, st.Info.Tip, st.Info.LIB, st.Info.Mode
		}
		if st.Err != nil {
			ns.Err = st.Err.Error()
		}
		out[i] = ns
	}
	return out
}

// node returns the named node.
func (h *hookContext) node(name string) (nodeclient.Node, error) {
	for _, n := range h.x.nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return nodeclient.Node{}, fmt.Errorf("no node %q", name)
}

// Peers implements hooks.Context.
func (h *hookContext) Peers(ctx context.Context, name string) (int, error) {
	n, err := h.node(name)
	if err != nil {
		return 0, err
	}
	info, err := n.Client.NetworkInfo(ctx)
	if err != nil {
		return 0, action(fmt.Errorf("%s: %w", name, err))
	}
	return info.NPeers, nil
}

// Block implements hooks.Context.
func (h *hookContext) Block(id string) (hooks.Block, bool) {
	b, height, ok := h.x.feed.Block(id)
	if !ok {
		return hooks.Block{}, false
	}
	return h.hookBlock(id, height, b), true
}

// hookBlock is b as a hook sees it.
func (h *hookContext) hookBlock(id string, height uint64, b *nodeapi.Block) hooks.Block {
	hb := hooks.Block{ID: id, Height: height}
	if b == nil {
		return hb
	}
	hb.Parent, hb.Slot = b.Header.Parent, b.Header.Slot
	if hasher, ok := h.codec.(nodeclient.TxHasher); ok {
		for _, tx := range b.Transactions {
			if hash, err := hasher.TxHash(tx); err == nil {
				hb.Txs = append(hb.Txs, hash)
			}
		}
	}
	return hb
}

// Chain implements hooks.Context.
func (h *hookContext) Chain(from, to uint64) []hooks.Block {
	canon := h.x.feed.Canonical()
	var out []hooks.Block
	for height := from; height <= to && height < uint64(len(canon)); height++ {
		if b, ok := h.Block(canon[height]); ok {
			out = append(out, b)
		}
	}
	return out
}

// Timeline implements hooks.Context: the faults and restarts so far.
func (h *hookContext) Timeline() []hooks.Event {
	h.x.mu.Lock()
	defer h.x.mu.Unlock()
	var out []hooks.Event
	for _, ev := range h.x.res.Timeline {
		at := ev.At.Std() - h.start.Sub(h.x.start)
		switch EventKind(ev.Kind) {
		case EventFaultStart, EventFaultHeal:
			phase := string(faults.Started)
			if EventKind(ev.Kind) == EventFaultHeal {
				phase = string(faults.Healed)
			}
			out = append(out, hooks.Event{At: at, Kind: faultKind(ev.Detail), Fault: ev.Name, Phase: phase, Nodes: ev.Nodes})
		case EventKind(report.TimelineRestart):
			out = append(out, hooks.Event{At: at, Kind: "restart", Nodes: ev.Nodes})
		}
	}
	return out
}

// faultKind is the fault kind at the start of a timeline detail
// ("partition", "bug stale_lib: ...").
func faultKind(detail string) string {
	for i, r := range detail {
		if r == ' ' || r == ':' {
			return detail[:i]
		}
	}
	return detail
}

// Workloads implements hooks.Context: the workloads' counters, and each
// hook's transfers under the hook's id.
func (h *hookContext) Workloads() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, w := range h.x.workloads {
		out[w.ID()] = w.Counts()
	}
	for id, c := range h.x.hookTxs.counts() {
		out[id] = c
	}
	return out
}

// Transfer implements hooks.Context: it hands the transaction to the first
// node that accepts it.
func (h *hookContext) Transfer(ctx context.Context, hook plan.Hook, wallet int) (string, error) {
	if h.codec == nil {
		return "", action(fmt.Errorf("no transaction codec for this node type"))
	}
	hasher, ok := h.codec.(nodeclient.TxHasher)
	if !ok {
		return "", action(fmt.Errorf("the transaction codec cannot name transactions"))
	}
	if wallet < 0 || wallet >= h.x.plan.Wallets.Count {
		return "", fmt.Errorf("no wallet %d: the scenario seeds wallets 0..%d", wallet, h.x.plan.Wallets.Count-1)
	}
	h.mu.Lock()
	if by, done := h.spent[wallet]; done {
		h.mu.Unlock()
		return "", fmt.Errorf("wallet %d was spent by hook %s already: each wallet's genesis note can be spent once", wallet, by)
	}
	h.spent[wallet] = hook.ID
	h.mu.Unlock()
	tx, err := h.codec.Transfer(wallet)
	if err != nil {
		return "", action(err)
	}
	hash, err := hasher.TxHash(tx)
	if err != nil {
		return "", action(err)
	}
	var errs []error
	for _, n := range h.x.nodes {
		if err := n.Client.AddTx(ctx, tx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
			continue
		}
		h.x.hookTxs.submitted(hook.ID, tx)
		return hash, nil
	}
	h.x.hookTxs.failed(hook.ID)
	return "", action(fmt.Errorf("no node accepted the transaction: %v", errs))
}

// StartFault implements hooks.Context: f comes resolved and checked by the
// interpreter (plan.ResolveFault). The fault's id is the hook's id and a
// count (h1.f1, h1.f2, ...), so the report tells hook faults apart from
// scheduled ones.
func (h *hookContext) StartFault(ctx context.Context, hook plan.Hook, f plan.Fault) (string, error) {
	h.mu.Lock()
	h.faultN[hook.ID]++
	f.ID = fmt.Sprintf("%s.f%d", hook.ID, h.faultN[hook.ID])
	h.mu.Unlock()
	if f.Pos.IsZero() {
		f.Pos = hook.Pos
	}
	return f.ID, action(h.faults.StartNow(ctx, f))
}

// Heal implements hooks.Context.
func (h *hookContext) Heal(ctx context.Context, id string) error {
	return action(h.faults.Heal(ctx, id))
}

// StopNode implements hooks.Context.
func (h *hookContext) StopNode(ctx context.Context, node string) error {
	return h.control(node, "stop", func(c runners.StopStarter) error { return c.Stop(ctx, node) })
}

// StartNode implements hooks.Context.
func (h *hookContext) StartNode(ctx context.Context, node string) error {
	return h.control(node, "start", func(c runners.StopStarter) error { return c.Start(ctx, node) })
}

// Restart implements hooks.Context.
func (h *hookContext) Restart(ctx context.Context, node string) error {
	if _, err := h.node(node); err != nil {
		return action(err)
	}
	r, ok := h.x.cluster.(runners.Restarter)
	if !ok {
		return action(fmt.Errorf("the %s runner cannot restart nodes", h.x.runner.Name()))
	}
	if err := r.Restart(ctx, node); err != nil {
		return action(err)
	}
	h.x.restarted("hook", node)
	return nil
}

func (h *hookContext) control(node, what string, fn func(runners.StopStarter) error) error {
	if _, err := h.node(node); err != nil {
		return action(err)
	}
	c, ok := h.x.cluster.(runners.StopStarter)
	if !ok {
		return action(fmt.Errorf("the %s runner cannot %s nodes", h.x.runner.Name(), what))
	}
	if err := fn(c); err != nil {
		return action(err)
	}
	h.x.timeline("node_"+what, node, "by a hook")
	return nil
}

// Record implements hooks.Context.
func (h *hookContext) Record(_ plan.Hook, name string, value float64) {
	at := h.x.offset()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.x.mu.Lock()
	defer h.x.mu.Unlock()
	i, ok := h.series[name]
	if !ok {
		i = len(h.x.res.Series)
		h.series[name] = i
		h.x.res.Series = append(h.x.res.Series, report.Series{Name: name})
	}
	h.x.res.Series[i].Points = append(h.x.res.Series[i].Points, report.SeriesPoint{At: at, Value: value})
}

// Log implements hooks.Context.
func (h *hookContext) Log(hook plan.Hook, msg string) {
	h.x.log.Info(msg, "hook", hook.ID, "func", hook.Func)
	h.x.emit(Event{Kind: EventHookLog, ID: hook.ID, Detail: msg})
}

// hookStats is the report's view of how the hooks ran.
func hookStats(hs []plan.Hook, st hooks.Stats) *report.HookStats {
	out := &report.HookStats{MaxLag: plan.Duration(st.MaxLag), MaxLagBlocks: st.MaxLagBlocks}
	for _, h := range hs {
		out.Hooks = append(out.Hooks, report.HookCalls{ID: h.ID, Kind: h.Kind, Func: h.Func, Pos: h.Pos.String(),
			Calls: st.Calls[h.ID], Busy: plan.Duration(st.Busy[h.ID]), Skipped: st.Skipped[h.ID]})
	}
	return out
}

// startHooks starts the plan's run-time hooks for the run window (ctx), in
// group: new canonical blocks reach them from the feed without waiting, and
// a failing hook's error goes to x.hookErr. It returns nil without hooks.
func (x *execution) startHooks(ctx context.Context, sched *faults.Schedule, codec nodeclient.Codec, group *sync.WaitGroup) *hooks.Scheduler {
	if len(x.plan.Hooks) == 0 {
		return nil
	}
	hc := newHookContext(x, sched, codec)
	hs := hooks.New(hooks.Options{Hooks: x.plan.Hooks, Caller: x.opts.Hooks, Context: hc, Slot: x.plan.Topology.Slot.Std()})
	x.feed.Subscribe(func(ev feed.Event) {
		if ev.Kind == feed.Added {
			hs.Added(hooks.Block{ID: ev.ID, Height: ev.Height})
		}
	})
	x.hookErr = make(chan error, 1)
	group.Go(func() {
		if err := hs.Run(ctx); err != nil {
			x.hookErr <- err
		}
	})
	return hs
}

// recordHooks stores how the hooks ran in the result.
func (x *execution) recordHooks(hs *hooks.Scheduler) {
	st := hookStats(x.plan.Hooks, hs.Stats())
	x.mu.Lock()
	x.res.Hooks = st
	x.mu.Unlock()
}

// actionError is a failure of the run while it carried out a hook's action
// (a node or the runner failed it): an infrastructure error, not the
// script's, however the interpreter wraps it.
type actionError struct{ err error }

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// action marks err, when there is one, as the run's failure.
func action(err error) error {
	if err == nil {
		return nil
	}
	return &actionError{err}
}

// hookTxs are the transfers the hooks submitted. A hook that submits is a
// workload of its own: its counters go in the report under its id, and
// expect_tx_inclusion judges its transfers with the tx workload's.
type hookTxs struct {
	mu   sync.Mutex
	pks  map[string]bool // output keys of submitted transfers
	byID map[string]map[string]int
	n    int
}

func newHookTxs() *hookTxs {
	return &hookTxs{pks: map[string]bool{}, byID: map[string]map[string]int{}}
}

func (s *hookTxs) submitted(hook string, tx nodeapi.Tx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range tx.MantleTx.LedgerTx.Outputs {
		s.pks[o.PK] = true
	}
	s.n++
	s.count(hook, "submitted")
}

func (s *hookTxs) failed(hook string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count(hook, "failed")
}

// count (with s.mu held) adds one to a hook's counter.
func (s *hookTxs) count(hook, counter string) {
	if s.byID[hook] == nil {
		s.byID[hook] = map[string]int{"submitted": 0, "failed": 0}
	}
	s.byID[hook][counter]++
}

// counts returns a copy of each hook's counters.
func (s *hookTxs) counts() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]int, len(s.byID))
	for id, c := range s.byID {
		m := make(map[string]int, len(c))
		for k, v := range c {
			m[k] = v
		}
		out[id] = m
	}
	return out
}

// Planned implements expect.TxSource: what hooks submitted is what they
// planned, as they decide as they go.
func (s *hookTxs) Planned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Tracked implements expect.TxSource.
func (s *hookTxs) Tracked(pk string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pks[pk]
}

// txSources judges several sources of transactions as one.
type txSources []expect.TxSource

// Planned implements expect.TxSource.
func (ts txSources) Planned() int {
	n := 0
	for _, s := range ts {
		n += s.Planned()
	}
	return n
}

// Tracked implements expect.TxSource.
func (ts txSources) Tracked(pk string) bool {
	for _, s := range ts {
		if s.Tracked(pk) {
			return true
		}
	}
	return false
}
