package run

import (
	"context"
	"time"

	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/history"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// maxFetchWalk bounds the walk down from one block the history lacks.
const maxFetchWalk = 10_000

// observe records one poll of a node in the history and the height charts.
func (x *execution) observe(name string, st feed.NodeState) {
	at := st.At.Sub(x.start)
	if !st.Valid {
		msg := "no answer"
		if st.Err != nil {
			msg = st.Err.Error()
		}
		x.hist.Unreachable(name, at, msg)
		return
	}
	info := st.Info
	x.hist.Observe(name, at, history.Observation{Height: info.Height, Tip: info.Tip, LIB: info.LIB, Mode: info.Mode})
	// The poll walked the tip's ancestry, so the LIB is normally known.
	_, lib, _ := x.feed.Lookup(info.LIB)
	x.mu.Lock()
	x.res.Heights = append(x.res.Heights, report.HeightSample{Node: name, At: plan.Duration(at), Height: info.Height, LIB: lib})
	x.mu.Unlock()
}

// restarted records a restart nobody scheduled as a fault window (chaos).
func (x *execution) restarted(workload, node string) {
	at := time.Since(x.start)
	x.hist.AddRestart(node, at)
	x.mu.Lock()
	x.res.Timeline = append(x.res.Timeline, report.TimelineEvent{At: plan.Duration(at), Kind: report.TimelineRestart,
		Name: workload, Nodes: []string{node}})
	x.mu.Unlock()
	x.emit(Event{Kind: EventRestart, Node: node, ID: workload})
}

// setWindow records the run window that liveness judges.
func (x *execution) setWindow(start, end time.Duration) {
	x.hist.SetWindow(start, end)
	x.mu.Lock()
	x.res.Window = report.Window{Start: plan.Duration(start), End: plan.Duration(end)}
	x.mu.Unlock()
}

// completeHistory gives the history every block the feed fetched, then
// fetches from the nodes the blocks it still lacks (a LIB or tip a node
// reported whose ancestry the feed never walked), so the checkers can place
// every LIB ever seen.
func (x *execution) completeHistory(ctx context.Context) {
	x.feed.EachBlock(x.hist.AddBlock)
	for range 3 {
		missing := x.hist.Missing()
		if len(missing) == 0 || ctx.Err() != nil {
			return
		}
		for _, id := range missing {
			x.fetchDown(ctx, id)
		}
	}
}

// fetchDown fetches id and its ancestors from any node that has them, down
// to a block the history holds or genesis, and adds them to the history.
func (x *execution) fetchDown(ctx context.Context, id string) {
	type fetched struct{ id, parent string }
	var chain []fetched // newest first
	base, cur := uint64(0), id
	for range maxFetchWalk {
		if h, ok := x.hist.Height(cur); ok {
			base = h + 1
			break
		}
		b := x.fetchBlock(ctx, cur)
		if b == nil {
			return // no node has it: it stays unplaced and the checker says so
		}
		chain = append(chain, fetched{cur, b.Header.Parent})
		if b.Header.Parent == nodeapi.GenesisParent {
			break
		}
		cur = b.Header.Parent
	}
	for i := len(chain) - 1; i >= 0; i-- {
		x.hist.AddBlock(chain[i].id, chain[i].parent, base+uint64(len(chain)-1-i))
	}
}

// fetchBlock asks each node in turn for a block.
func (x *execution) fetchBlock(ctx context.Context, id string) *nodeapi.Block {
	for _, n := range x.nodes {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := n.Client.Block(cctx, id)
		cancel()
		if err == nil && b != nil {
			return b
		}
	}
	return nil
}
