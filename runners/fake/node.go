package fake

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// Node is one fake node; it is its own nodeclient.Client. Its fields are
// guarded by the cluster's mutex.
type Node struct {
	c    *Cluster
	name string
	role plan.Role

	unready  bool
	down     bool
	paused   bool
	isolated bool
	blocked  map[string]bool
	frozen   int
	restarts int
	link     nodeapi.LinkFault
	offset   time.Duration
}

var (
	_ runners.Node      = (*Node)(nil)
	_ nodeclient.Client = (*Node)(nil)
)

// Name implements runners.Node.
func (n *Node) Name() string { return n.name }

// Role implements runners.Node.
func (n *Node) Role() plan.Role { return n.role }

// API implements runners.Node.
func (n *Node) API() string { return "fake://" + n.name }

// TestingAPI implements runners.Node.
func (n *Node) TestingAPI() string { return "fake://" + n.name + "/testing" }

// faulty reports whether the node cannot follow the chain; c.mu is held.
func (n *Node) faulty() bool {
	return n.down || n.paused || n.isolated || len(n.blocked) > 0
}

// freeze remembers the height at which a fault stops the node; c.mu is held.
func (n *Node) freeze() {
	if !n.faulty() {
		n.frozen = len(n.c.chain) - 1
	}
}

// heightLocked is the node's tip height; c.mu is held.
func (n *Node) heightLocked() int {
	if n.faulty() {
		return n.frozen
	}
	return len(n.c.chain) - 1
}

// Restarts reports how often the node was restarted.
func (n *Node) Restarts() int {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	return n.restarts
}

// Offset reports the node's clock offset.
func (n *Node) Offset() time.Duration {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	return n.offset
}

// serve records op and returns with the chain advanced and c.mu held, or an
// error when the node does not answer. The caller must unlock.
func (n *Node) serve(op, arg string) error {
	n.c.mu.Lock()
	n.c.advance()
	n.c.record(n.name, op, arg)
	if n.unready || n.down || n.paused {
		n.c.mu.Unlock()
		return fmt.Errorf("%s %s: %w", n.name, op, errDown)
	}
	return nil
}

// Info implements nodeclient.Client.
func (n *Node) Info(context.Context) (nodeapi.Info, error) {
	if err := n.serve("info", ""); err != nil {
		return nodeapi.Info{}, err
	}
	defer n.c.mu.Unlock()
	h := n.heightLocked()
	lib := max(h-n.c.plan.Topology.SecurityParam, 0)
	libID := n.c.chain[lib].id
	if forced, ok := n.c.libs[n.name]; ok {
		libID = forced
	}
	mode := nodeapi.ModeOnline
	if n.c.opts.Bootstrapping[n.name] {
		mode = nodeapi.ModeBootstrapping
	}
	return nodeapi.Info{Tip: n.c.chain[h].id, LIB: libID, Height: uint64(h), Slot: uint64(h), Mode: mode}, nil
}

// Headers implements nodeclient.Client.
func (n *Node) Headers(_ context.Context, from, to string) ([]string, error) {
	if err := n.serve("headers", ""); err != nil {
		return nil, err
	}
	defer n.c.mu.Unlock()
	h := n.heightLocked()
	top, bottom := h, max(h-n.c.plan.Topology.SecurityParam, 0)
	if i, ok := n.c.index[from]; ok && i <= h {
		top = i
	}
	if i, ok := n.c.index[to]; ok && i <= top {
		bottom = i
	}
	var ids []string
	for i := top; i >= bottom && len(ids) < 512; i-- {
		ids = append(ids, n.c.chain[i].id)
	}
	if forced, ok := n.c.libs[n.name]; ok && to == "" && len(ids) > 0 {
		ids[len(ids)-1] = forced
	}
	return ids, nil
}

// Block implements nodeclient.Client.
func (n *Node) Block(_ context.Context, id string) (*nodeapi.Block, error) {
	if err := n.serve("block", ""); err != nil {
		return nil, err
	}
	defer n.c.mu.Unlock()
	i, ok := n.c.index[id]
	if !ok || i > n.heightLocked() {
		return nil, nil
	}
	b := n.c.chain[i]
	return &nodeapi.Block{Header: nodeapi.Header{Version: "Bedrock", Parent: b.parent, Slot: uint64(i)},
		Transactions: append([]nodeapi.Tx(nil), b.txs...)}, nil
}

// AddTx implements nodeclient.Client.
func (n *Node) AddTx(_ context.Context, tx nodeapi.Tx) error {
	if err := n.serve("add_tx", ""); err != nil {
		return err
	}
	defer n.c.mu.Unlock()
	n.c.pending = append(n.c.pending, tx)
	return nil
}

// TxStatus implements nodeclient.Client: every hash is reported Unknown,
// since the fake does not hash transactions.
func (n *Node) TxStatus(_ context.Context, hashes []string) ([]nodeapi.TxStatus, error) {
	if err := n.serve("tx_status", ""); err != nil {
		return nil, err
	}
	defer n.c.mu.Unlock()
	out := make([]nodeapi.TxStatus, len(hashes))
	for i := range out {
		out[i] = nodeapi.TxStatus{State: nodeapi.TxUnknown}
	}
	return out, nil
}

// expectedPeers is the node's peer count under the plan's network layout.
func (n *Node) expectedPeers() int {
	nodes := n.c.plan.Topology.Nodes
	idx := -1
	for i, pn := range nodes {
		if pn.Name == n.name {
			idx = i
		}
	}
	last := len(nodes) - 1
	switch {
	case len(nodes) <= 1:
		return 0
	case n.c.plan.Topology.Network == plan.NetworkFull:
		return last
	case n.c.plan.Topology.Network == plan.NetworkChain:
		if idx == 0 || idx == last {
			return 1
		}
		return 2
	case idx == 0:
		return last
	}
	return 1
}

// NetworkInfo implements nodeclient.Client.
func (n *Node) NetworkInfo(context.Context) (nodeapi.NetworkInfo, error) {
	if err := n.serve("network_info", ""); err != nil {
		return nodeapi.NetworkInfo{}, err
	}
	defer n.c.mu.Unlock()
	peers := n.expectedPeers()
	if p, ok := n.c.opts.Peers[n.name]; ok {
		peers = p
	}
	if n.isolated {
		peers = 0
	}
	return nodeapi.NetworkInfo{PeerID: "peer-" + n.name, NPeers: peers, NConnections: peers}, nil
}

// Metrics implements nodeclient.Client.
func (n *Node) Metrics(context.Context) (string, error) {
	if err := n.serve("metrics", ""); err != nil {
		return "", err
	}
	defer n.c.mu.Unlock()
	h := n.heightLocked()
	lib := max(h-n.c.plan.Topology.SecurityParam, 0)
	// The reference node's series names, plus a labelled counter.
	return fmt.Sprintf("# TYPE cryptarchia_tip_height gauge\ncryptarchia_tip_height %d\n"+
		"# TYPE cryptarchia_lib_height gauge\ncryptarchia_lib_height %d\n"+
		"# TYPE cryptarchia_blocks_received_total counter\ncryptarchia_blocks_received_total{source=\"gossip\"} %d\n"+
		"cryptarchia_blocks_received_total{source=\"sync\"} 1\n", h, lib, h), nil
}

// DisperseData implements nodeclient.Client: executors accept the blob and
// put its ChannelBlob transaction in the mempool.
func (n *Node) DisperseData(_ context.Context, r nodeapi.DispersalRequest) (nodeapi.BlobID, error) {
	if err := n.serve("disperse", r.ChannelID); err != nil {
		return nodeapi.BlobID{}, err
	}
	defer n.c.mu.Unlock()
	if n.role != plan.RoleExecutor {
		return nodeapi.BlobID{}, fmt.Errorf("%s: POST /disperse-data: HTTP 404", n.name)
	}
	data := make([]byte, len(r.Data))
	for i, v := range r.Data {
		data[i] = byte(v)
	}
	id := nodeapi.BlobID(sha256.Sum256(append([]byte(r.ChannelID+r.ParentMsgID), data...)))
	payload := fmt.Appendf(nil, `{"channel":%q,"session":0,"blob":%s,"blob_size":%d,"da_storage_gas_price":0,"parent":%q,"signer":%q}`,
		r.ChannelID, mustJSON(id), len(data), r.ParentMsgID, r.Signer)
	n.c.pending = append(n.c.pending, nodeapi.Tx{MantleTx: nodeapi.MantleTx{
		Ops: []nodeapi.Op{{Opcode: nodeapi.OpChannelBlob, Payload: payload}}}})
	return id, nil
}

func mustJSON(id nodeapi.BlobID) string {
	b, _ := id.MarshalJSON()
	return string(b)
}

// DAMembership implements nodeclient.Client.
func (n *Node) DAMembership(context.Context, uint64) (nodeapi.Membership, error) {
	if err := n.serve("da_membership", ""); err != nil {
		return nodeapi.Membership{}, err
	}
	defer n.c.mu.Unlock()
	m := nodeapi.Membership{Assignations: map[string][]string{}, Addressbook: map[string]string{}}
	if !n.c.opts.NoMembership {
		for _, o := range n.c.nodes {
			m.Assignations["0"] = append(m.Assignations["0"], "peer-"+o.name)
		}
	}
	return m, nil
}

// BlockPeers implements nodeclient.FaultHooks.
func (n *Node) BlockPeers(_ context.Context, peers []string) error {
	if err := n.serve("block_peers", strings.Join(peers, ",")); err != nil {
		return err
	}
	defer n.c.mu.Unlock()
	n.freeze()
	if n.blocked == nil {
		n.blocked = map[string]bool{}
	}
	for _, p := range peers {
		n.blocked[p] = true
	}
	return nil
}

// UnblockPeers implements nodeclient.FaultHooks.
func (n *Node) UnblockPeers(_ context.Context, peers []string) error {
	if err := n.serve("unblock_peers", strings.Join(peers, ",")); err != nil {
		return err
	}
	defer n.c.mu.Unlock()
	for _, p := range peers {
		delete(n.blocked, p)
	}
	return nil
}

// Blocked returns the peers the node currently blocks, sorted.
func (n *Node) Blocked() []string {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	var out []string
	for p := range n.blocked {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// SetLinkFault implements nodeclient.FaultHooks.
func (n *Node) SetLinkFault(_ context.Context, f nodeapi.LinkFault) error {
	arg := fmt.Sprintf("delay=%dms loss=%g peers=%s", f.DelayMS, f.Loss, strings.Join(f.Peers, ","))
	if err := n.serve("link_fault", arg); err != nil {
		return err
	}
	defer n.c.mu.Unlock()
	n.link = f
	return nil
}

// SetBugs implements nodeclient.FaultHooks: the fake node records the call
// and otherwise ignores it.
func (n *Node) SetBugs(_ context.Context, bugs map[string]bool) error {
	if err := n.serve("bugs", fmt.Sprint(bugs)); err != nil {
		return err
	}
	n.c.mu.Unlock()
	return nil
}

// SetClockOffset implements nodeclient.FaultHooks.
func (n *Node) SetClockOffset(_ context.Context, d time.Duration) error {
	if err := n.serve("clock_offset", d.String()); err != nil {
		return err
	}
	defer n.c.mu.Unlock()
	n.offset = d
	return nil
}
