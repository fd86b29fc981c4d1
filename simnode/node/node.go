// Package node assembles the reference node: chain state (block tree,
// per-block ledger states, storage), block production, gossip and sync,
// and the operations the HTTP API serves.
package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"go.opentelemetry.io/otel/trace"

	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/config"
	"github.com/nomosrun/nomosrun/simnode/consensus"
	"github.com/nomosrun/nomosrun/simnode/ledger"
	"github.com/nomosrun/nomosrun/simnode/mempool"
	"github.com/nomosrun/nomosrun/simnode/p2p"
	"github.com/nomosrun/nomosrun/simnode/store"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// MaxBlockTxs is the most transactions a block holds.
const MaxBlockTxs = 1024

// mempoolCap bounds the pending transactions of a node.
const mempoolCap = 200000

// Node is one running reference node.
type Node struct {
	cfg     *config.NodeConfig
	log     *slog.Logger
	clog    *slog.Logger // consensus target
	devMode bool

	mu      sync.Mutex
	tree    *consensus.Tree
	blocks  map[nodeapi.Hash]*wire.Block
	states  map[nodeapi.Hash]*ledger.State
	txIndex map[nodeapi.Hash][]nodeapi.Hash
	orphans map[nodeapi.Hash]*wire.Block
	libSubs map[chan nodeapi.LibInfo]struct{}

	pool  *mempool.Pool
	store *store.Store
	net   *p2p.Network
	// netUp is closed once Run has set net: the network calls the handler
	// from its own goroutines while it starts, before p2p.New returns.
	netUp  chan struct{}
	clock  consensus.Clock
	offset atomic.Int64 // clock offset in ns

	leader   ed25519.PrivateKey
	stake    map[nodeapi.Hash]uint64
	total    uint64
	nonce    nodeapi.Hash
	f        float64
	fetching sync.Map    // peer.ID -> *sync.Mutex: one fetch per peer at a time
	synced   atomic.Bool // the initial sync is over: the node may propose
	bootGen  uint64      // counts rejoins (under mu), see rejoinLocked
	bugs     bugSet      // test-only fault injection, see bugs.go

	metrics *metrics
	tracer  trace.Tracer // block production and import; a no-op unless set
	da      *daService
	ctx     context.Context
}

// DevModeEnv is the environment variable of the proof-of-leadership dev mode.
const DevModeEnv = nodeapi.DevModeEnv

// DevModeFromEnv reads POL_PROOF_DEV_MODE with nodeapi.ParseDevMode: unset
// is off, a value that is not a boolean an error naming it.
func DevModeFromEnv() (bool, error) { return nodeapi.ParseDevMode(os.Getenv(DevModeEnv)) }

// New opens the node's storage and recovers its chain; Run starts it.
func New(cfg *config.NodeConfig, log *slog.Logger) (*Node, error) {
	seed, err := hex.DecodeString(cfg.Cryptarchia.Leader.SK)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("config key cryptarchia.leader.sk: want 64 hex digits")
	}
	devMode, err := DevModeFromEnv()
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg: cfg, log: log, clog: log.With("target", "consensus"),
		devMode: devMode,
		blocks:  map[nodeapi.Hash]*wire.Block{}, states: map[nodeapi.Hash]*ledger.State{},
		txIndex: map[nodeapi.Hash][]nodeapi.Hash{}, orphans: map[nodeapi.Hash]*wire.Block{},
		libSubs: map[chan nodeapi.LibInfo]struct{}{}, netUp: make(chan struct{}),
		pool: mempool.New(mempoolCap), leader: ed25519.NewKeyFromSeed(seed),
		stake: map[nodeapi.Hash]uint64{}, f: cfg.Deployment.Cryptarchia.ConsensusConfig.ActiveSlotCoeff,
		metrics: newMetrics(), tracer: noopTracer,
	}
	n.clock = consensus.Clock{
		Start:    time.Time(cfg.Time.ChainStartTime),
		Duration: time.Duration(cfg.Deployment.Time.SlotDuration),
		Now:      func() time.Time { return time.Now().Add(time.Duration(n.offset.Load())) },
	}
	genesis, err := n.genesis()
	if err != nil {
		return nil, err
	}
	gid := genesis.ID()
	// The epoch nonce is fixed per chain (derived from genesis): the stake
	// distribution never changes either, so epochs need no rotation here.
	n.nonce = gid
	n.tree = consensus.NewTree(gid, cfg.Deployment.Cryptarchia.ConsensusConfig.SecurityParam)
	st := ledger.New()
	st.AddOutputs(&genesis.Transactions[0])
	n.blocks[gid], n.states[gid] = genesis, st
	if n.store, err = store.Open(cfg.Storage.DBPath); err != nil {
		return nil, err
	}
	if err := n.recover(); err != nil {
		n.store.Close()
		return nil, err
	}
	n.da = newDAService(n)
	return n, nil
}

// genesis builds the genesis block from the config's genesis notes: the
// leader stake notes, then the wallet notes.
func (n *Node) genesis() (*wire.Block, error) {
	g := n.cfg.Cryptarchia.Service.StartingState.Genesis
	var outs []wire.Note
	for i, l := range g.Leaders {
		pk, err := nodeapi.ParseHash(l.PK)
		if err != nil {
			return nil, fmt.Errorf("config key cryptarchia.service.starting_state.genesis.leaders[%d].pk: %v", i, err)
		}
		outs = append(outs, wire.Note{Value: l.Value, PK: pk})
		n.stake[pk] += l.Value
		n.total += l.Value
	}
	for i, w := range g.Notes {
		pk, err := nodeapi.ParseHash(w.PK)
		if err != nil {
			return nil, fmt.Errorf("config key cryptarchia.service.starting_state.genesis.notes[%d].pk: %v", i, err)
		}
		outs = append(outs, wire.Note{Value: w.Value, PK: pk})
	}
	payload := []byte(`{"channel_id":"` + nodeapi.Hash{}.String() + `","inscription":[103,101,110,101,115,105,115],"parent":"` +
		nodeapi.Hash{}.String() + `","signer":"` + nodeapi.Hash{}.String() + `"}`)
	tx := wire.Tx{
		MantleTx:      wire.MantleTx{Ops: []nodeapi.Op{{Opcode: nodeapi.OpChannelInscribe, Payload: payload}}, LedgerTx: wire.LedgerTx{Inputs: []nodeapi.Hash{}, Outputs: outs}},
		OpsProofs:     []txcodec.OpProof{{}},
		LedgerTxProof: txcodec.EmptyLedgerProof(),
	}
	b := &wire.Block{
		Header: wire.Header{Version: wire.BlockVersion, BlockRoot: tx.Hash(),
			ProofOfLeadership: wire.ProofOfLeadership{Proof: make(nodeapi.Bytes, wire.ProofSize)}},
		Signature:    make(nodeapi.Bytes, ed25519.SignatureSize),
		Transactions: []wire.Tx{tx},
	}
	return b, nil
}

// recover replays the stored blocks in slot order (a parent's slot is
// always below its child's) and restores the recorded LIB. The node then
// bootstraps again, as after any start: until it turns Online it follows
// the longest chain its peers serve at any depth, also one forking below
// the restored LIB (the LIB then moves back to the fork point), so a node
// that finalized a minority fork rejoins the majority after a restart.
func (n *Node) recover() error {
	var stored []*wire.Block
	if err := n.store.Blocks(func(b *wire.Block) error { stored = append(stored, b); return nil }); err != nil {
		return err
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].Header.Slot < stored[j].Header.Slot })
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range stored {
		if err := n.applyLocked(b, false); err != nil && !errors.Is(err, errOrphan) {
			n.clog.Warn("stored block not replayed", "block", b.ID(), "err", err)
		}
	}
	if lib, ok, err := n.store.LIB(); err != nil {
		return err
	} else if ok {
		n.tree.RestoreLIB(lib)
	}
	if len(stored) > 0 {
		tip := n.tree.Tip()
		n.clog.Info("chain recovered from disk", "blocks", len(stored), "tip", tip.ID, "height", tip.Height, "lib", n.tree.LIB().ID)
	}
	n.updateGaugesLocked()
	return nil
}

// Run starts the network and the node's loops and blocks until ctx ends.
func (n *Node) Run(ctx context.Context) error {
	n.ctx = ctx
	key, err := hex.DecodeString(n.cfg.Network.Backend.Swarm.NodeKey)
	if err != nil {
		return errors.New("config key network.backend.swarm.node_key: not hex")
	}
	names := map[string]string{}
	var addrs []string
	for _, p := range n.cfg.Node.Cluster {
		names[p.Name] = p.PeerID
		addrs = append(addrs, p.Addr)
	}
	n.net, err = p2p.New(ctx, p2p.Config{
		NodeKey: key, ListenHost: n.cfg.Network.Backend.Swarm.Host, ListenPort: n.cfg.Network.Backend.Swarm.Port,
		InitialPeers: n.cfg.Network.Backend.InitialPeers, Names: names, Addresses: addrs,
		BlockTopic: n.cfg.Deployment.Cryptarchia.GossipsubProtocol, TxTopic: n.cfg.Deployment.Mempool.PubsubTopic,
	}, (*handler)(n), n.log.With("target", "p2p"))
	if err != nil {
		return err
	}
	close(n.netUp)
	defer n.net.Close()
	if n.da != nil {
		n.da.start()
	}
	n.log.Info("node started", "name", n.cfg.Node.Name, "role", n.cfg.Node.Role, "peer_id", n.net.ID(),
		"leader", txcodec.PublicKey(n.leader), "pol_dev_mode", n.devMode)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); n.produce(ctx) }()
	go func() { defer wg.Done(); n.syncLoop(ctx) }()
	go func() { defer wg.Done(); n.bootstrap(ctx) }()
	<-ctx.Done()
	wg.Wait()
	return nil
}

// Close releases the storage.
func (n *Node) Close() error { return n.store.Close() }

// bootstrap turns the node Online: after the initial sync with the peers it
// can reach, it waits the prolonged bootstrap period.
func (n *Node) bootstrap(ctx context.Context) {
	deadline := time.Now().Add(3 * time.Second)
	for len(n.cfg.Network.Backend.InitialPeers) > 0 && len(n.net.Peers()) == 0 && time.Now().Before(deadline) {
		if ctxtime.Sleep(ctx, 50*time.Millisecond) != nil {
			return
		}
	}
	// Initial block download: wait for each peer's download to finish before
	// proposing, so a restarted node does not build a private fork. Under
	// load a download can fail; retry until one peer's tip is in the tree.
	for len(n.net.Peers()) > 0 && time.Now().Before(deadline.Add(10*time.Second)) {
		done := false
		for _, p := range n.net.Peers() {
			done = n.syncPeerWait(ctx, p, true) || done
		}
		if done || ctxtime.Sleep(ctx, 200*time.Millisecond) != nil {
			break
		}
	}
	n.synced.Store(true)
	n.clog.Info("initial sync done", "tip", n.Info().Tip, "height", n.Info().Height)
	if ctxtime.Sleep(ctx, time.Duration(n.cfg.Cryptarchia.Service.Bootstrap.ProlongedBootstrapPeriod)) != nil {
		return
	}
	if n.waitApplying(ctx) != nil {
		return
	}
	n.mu.Lock()
	n.tree.SetOnline()
	n.afterChangeLocked()
	n.mu.Unlock()
	n.clog.Info("mode Online", "lib", n.tree.LIB().ID)
}

// waitApplying waits while the stop_applying bug freezes the chain, so
// turning Online does not move the LIB meanwhile.
func (n *Node) waitApplying(ctx context.Context) error {
	for n.bugOn(bugStopApplying) {
		if err := ctxtime.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// syncLoop polls every connected peer's tip each few slots, so a node that
// missed gossip (partition, loss, restart) catches up.
func (n *Node) syncLoop(ctx context.Context) {
	every := max(2*n.clock.Duration, 500*time.Millisecond)
	for ctxtime.Sleep(ctx, every) == nil {
		for _, p := range n.net.Peers() {
			go n.syncPeer(ctx, p)
		}
	}
}

// syncPeer asks p for its tip and downloads the blocks this node lacks,
// unless a download from p is already running.
func (n *Node) syncPeer(ctx context.Context, p peer.ID) { n.syncPeerWait(ctx, p, false) }

// syncPeerWait is syncPeer; it reports whether p's tip is known afterwards.
func (n *Node) syncPeerWait(ctx context.Context, p peer.ID, wait bool) bool {
	tip, _, err := n.net.Sync(ctx, p, nil, 0)
	if err != nil {
		return false
	}
	n.mu.Lock()
	known := n.tree.Has(tip)
	n.mu.Unlock()
	if !known {
		n.fetch(ctx, p, tip, wait)
		n.mu.Lock()
		known = n.tree.Has(tip)
		n.mu.Unlock()
	}
	return known
}

// fetch downloads id and its unknown ancestors from p (the orphan path) and
// applies them oldest first. With wait it queues behind a running download
// from p; without, it leaves the work to that download.
func (n *Node) fetch(ctx context.Context, p peer.ID, id nodeapi.Hash, wait bool) {
	v, _ := n.fetching.LoadOrStore(p, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	if wait {
		mu.Lock()
	} else if !mu.TryLock() {
		return
	}
	defer mu.Unlock()
	n.mu.Lock()
	known := n.tree.Has(id)
	n.mu.Unlock()
	if known {
		return
	}
	var chain []wire.Block
	want := id
	for len(chain) < 100000 {
		_, blocks, err := n.net.Sync(ctx, p, &want, 64)
		if err != nil || len(blocks) == 0 {
			n.log.Debug("fetch failed", "target", "sync", "peer", n.net.Name(p), "err", err)
			return
		}
		chain = append(chain, blocks...)
		oldest := &blocks[len(blocks)-1]
		n.mu.Lock()
		known := n.tree.Has(oldest.Header.Parent)
		n.mu.Unlock()
		if known || oldest.Header.Slot == 0 {
			break
		}
		want = oldest.Header.Parent
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cfg.Testing.RejoinBelowLIB {
		n.rejoinLocked(chain)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if err := n.applyLocked(&chain[i], true); err != nil && !errors.Is(err, errOrphan) {
			n.clog.Debug("synced block rejected", "block", chain[i].ID(), "err", err)
			return
		}
	}
}
