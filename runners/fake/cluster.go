package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// maxBlockTxs is how many transactions one block carries.
const maxBlockTxs = 1024

type block struct {
	id     string
	parent string
	txs    []nodeapi.Tx
}

// Cluster is a deployed fake topology. It implements runners.Cluster and
// every node-control capability.
type Cluster struct {
	plan     *plan.Plan
	opts     Options
	cuts     map[string][2][]string // kernel faults by id: the two sides of a cut
	start    time.Time
	interval time.Duration

	mu        sync.Mutex
	nodes     []*Node
	byName    map[string]*Node
	chain     []block
	index     map[string]int
	pending   []nodeapi.Tx
	calls     []Call
	teardowns int
	libs      map[string]string // forced LIB ids per node
	exited    chan error
}

var (
	_ runners.Cluster      = (*Cluster)(nil)
	_ runners.Restarter    = (*Cluster)(nil)
	_ runners.Killer       = (*Cluster)(nil)
	_ runners.StopStarter  = (*Cluster)(nil)
	_ runners.Pauser       = (*Cluster)(nil)
	_ runners.Isolator     = (*Cluster)(nil)
	_ runners.LogCollector = (*Cluster)(nil)
)

func newCluster(p *plan.Plan, opts Options) *Cluster {
	c := &Cluster{plan: p, opts: opts, start: time.Now(), interval: p.Derived.BlockInterval.Std(),
		byName: map[string]*Node{}, index: map[string]int{}, libs: map[string]string{}, exited: make(chan error, 16)}
	if c.interval <= 0 {
		c.interval = time.Second
	}
	c.appendBlock(nodeapi.GenesisParent, nil)
	for _, pn := range p.Topology.Nodes {
		n := &Node{c: c, name: pn.Name, role: pn.Role, unready: opts.Unready[pn.Name]}
		c.nodes = append(c.nodes, n)
		c.byName[n.name] = n
	}
	c.record("", "deploy", fmt.Sprintf("%d nodes", len(c.nodes)))
	return c
}

func blockID(seed int64, height int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "fake-block/%d/%d", seed, height))
	return hex.EncodeToString(sum[:])
}

func (c *Cluster) appendBlock(parent string, txs []nodeapi.Tx) {
	id := blockID(c.plan.Seed, len(c.chain))
	c.index[id] = len(c.chain)
	c.chain = append(c.chain, block{id: id, parent: parent, txs: txs})
}

// advance grows the chain to the current time; c.mu is held.
func (c *Cluster) advance() {
	target := int(time.Since(c.start) / c.interval)
	for len(c.chain)-1 < target {
		n := min(len(c.pending), maxBlockTxs)
		txs := append([]nodeapi.Tx(nil), c.pending[:n]...)
		c.pending = c.pending[n:]
		c.appendBlock(c.chain[len(c.chain)-1].id, txs)
	}
}

func (c *Cluster) record(node, op, arg string) {
	c.calls = append(c.calls, Call{Node: node, Op: op, Arg: arg})
}

// Calls returns every recorded call in order.
func (c *Cluster) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// CallLog returns the recorded calls whose op is one of ops, as strings.
func (c *Cluster) CallLog(ops ...string) []string {
	var out []string
	for _, call := range c.Calls() {
		for _, op := range ops {
			if call.Op == op {
				out = append(out, call.String())
			}
		}
	}
	return out
}

// Teardowns reports how many times Teardown was called.
func (c *Cluster) Teardowns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.teardowns
}

// Height returns the chain height (all healthy nodes are at it).
func (c *Cluster) Height() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance()
	return len(c.chain) - 1
}

// Node returns a node by name (nil if unknown).
func (c *Cluster) Node(name string) *Node { return c.byName[name] }

// ForceLIB makes node report lib as its LIB (to simulate a safety violation).
func (c *Cluster) ForceLIB(node, lib string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lib == "" { // back to the node's own LIB
		delete(c.libs, node)
		return
	}
	c.libs[node] = lib
}

// Exited delivers the exits simulated with Crash.
func (c *Cluster) Exited() <-chan error { return c.exited }

// Crash takes node down as if its process died and reports it on Exited.
func (c *Cluster) Crash(node string, err error) {
	c.mu.Lock()
	c.advance()
	c.record(node, "crash", "")
	if n := c.byName[node]; n != nil {
		n.freeze()
		n.down = true
	}
	c.mu.Unlock()
	c.exited <- fmt.Errorf("%s: %w", node, err)
}

// Nodes implements runners.Cluster.
func (c *Cluster) Nodes() []runners.Node {
	out := make([]runners.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// Teardown implements runners.Cluster.
func (c *Cluster) Teardown(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.teardowns++
	c.record("", "teardown", "")
	for _, n := range c.nodes {
		n.down = true
	}
	return nil
}

// lookup finds a node for a control call; c.mu is held.
func (c *Cluster) lookup(name string) (*Node, error) {
	n := c.byName[name]
	if n == nil {
		return nil, fmt.Errorf("fake: unknown node %q", name)
	}
	return n, nil
}

// control records op on node and applies fn with the chain advanced.
func (c *Cluster) control(op, name string, fn func(n *Node) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance()
	c.record(name, op, "")
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	return fn(n)
}

// Restart implements runners.Restarter.
func (c *Cluster) Restart(_ context.Context, name string) error {
	return c.control("restart", name, func(n *Node) error {
		if c.opts.RestartErr != nil {
			return c.opts.RestartErr
		}
		n.down = false
		n.restarts++
		return nil
	})
}

// Kill implements runners.Killer.
func (c *Cluster) Kill(_ context.Context, name string) error {
	return c.control("kill", name, func(n *Node) error { n.freeze(); n.down = true; return nil })
}

// Stop implements runners.StopStarter.
func (c *Cluster) Stop(_ context.Context, name string) error {
	return c.control("stop", name, func(n *Node) error { n.freeze(); n.down = true; return nil })
}

// Start implements runners.StopStarter.
func (c *Cluster) Start(_ context.Context, name string) error {
	return c.control("start", name, func(n *Node) error { n.down = false; return nil })
}

// Pause implements runners.Pauser.
func (c *Cluster) Pause(_ context.Context, name string) error {
	return c.control("pause", name, func(n *Node) error { n.freeze(); n.paused = true; return nil })
}

// Resume implements runners.Pauser.
func (c *Cluster) Resume(_ context.Context, name string) error {
	return c.control("resume", name, func(n *Node) error { n.paused = false; return nil })
}

// Isolate implements runners.Isolator.
func (c *Cluster) Isolate(_ context.Context, name string) error {
	return c.control("isolate", name, func(n *Node) error { n.freeze(); n.isolated = true; return nil })
}

// Reconnect implements runners.Isolator.
func (c *Cluster) Reconnect(_ context.Context, name string) error {
	return c.control("reconnect", name, func(n *Node) error { n.isolated = false; return nil })
}

// CollectLogs implements runners.LogCollector: one dir/<node>.log per node.
func (c *Cluster) CollectLogs(_ context.Context, dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance()
	c.record("", "collect_logs", "")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range c.nodes {
		var b strings.Builder
		fmt.Fprintf(&b, "INFO %s started role=%s\n", n.name, n.role)
		for h := 1; h <= n.heightLocked(); h++ {
			fmt.Fprintf(&b, "INFO applied block height=%d\n", h)
		}
		if n.restarts > 0 {
			fmt.Fprintf(&b, "WARN %s restarted %d times\n", n.name, n.restarts)
		}
		if err := os.WriteFile(filepath.Join(dir, n.name+".log"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
