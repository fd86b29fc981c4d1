// Package p2p links reference nodes: a go-libp2p host (TCP, noise, yamux, no
// NAT, relay or mDNS) with gossipsub topics for blocks and transactions, a
// request/response protocol for chain sync, reconnection to the configured
// peers, and the testing-API network faults.
package p2p

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// SyncProtocol is the chain-sync request/response protocol.
const SyncProtocol = protocol.ID("/nomosrun/sync/1.0.0")

// maxMessage bounds gossip messages and sync responses (a block of 1024
// transactions in JSON is well below it).
const maxMessage = 32 << 20

// Config is what the network needs.
type Config struct {
	NodeKey      []byte // Ed25519 seed (32 bytes)
	ListenHost   string
	ListenPort   int
	InitialPeers []string          // multiaddrs with /p2p/
	Names        map[string]string // node name -> peer id, for fault hooks
	Addresses    []string          // every cluster node's multiaddr, for on-demand dials
	BlockTopic   string
	TxTopic      string
}

// Handler is the node side of the network.
type Handler interface {
	// OnBlock and OnTx receive gossip (after link faults).
	OnBlock(from peer.ID, data []byte)
	OnTx(from peer.ID, data []byte)
	// SyncTip is the local tip for a peer's sync request.
	SyncTip() nodeapi.Hash
	// SyncBlocks is up to max blocks from id back towards genesis.
	SyncBlocks(id nodeapi.Hash, max int) []wire.Block
	// OnPeer is called when a connection to a peer opens.
	OnPeer(p peer.ID)
}

// Network is a running p2p stack.
type Network struct {
	cfg     Config
	host    host.Host
	ps      *pubsub.PubSub
	blocks  *pubsub.Topic
	txs     *pubsub.Topic
	faults  *faults
	handler Handler
	log     *slog.Logger
	peers   []peer.AddrInfo
	book    []peer.AddrInfo
	names   map[peer.ID]string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New starts the host, joins the topics and starts dialling peers; ctx ends
// the background loops.
func New(ctx context.Context, cfg Config, h Handler, log *slog.Logger) (*Network, error) {
	if len(cfg.NodeKey) != 32 {
		return nil, errors.New("p2p: node key wants 32 bytes")
	}
	sk, err := crypto.UnmarshalEd25519PrivateKey(append(append([]byte{}, cfg.NodeKey...), ed25519Public(cfg.NodeKey)...))
	if err != nil {
		return nil, fmt.Errorf("p2p: node key: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	n := &Network{cfg: cfg, faults: newFaults(), handler: h, log: log, names: map[peer.ID]string{}, cancel: cancel}
	ok := false
	defer func() {
		if !ok {
			cancel()
		}
	}()
	for name, id := range cfg.Names {
		if pid, err := peer.Decode(id); err == nil {
			n.names[pid] = name
		}
	}
	for _, a := range cfg.Addresses {
		info, err := peer.AddrInfoFromString(a)
		if err != nil {
			return nil, fmt.Errorf("p2p: cluster address %q: %w", a, err)
		}
		n.book = append(n.book, *info)
	}
	for _, a := range cfg.InitialPeers {
		info, err := peer.AddrInfoFromString(a)
		if err != nil {
			return nil, fmt.Errorf("p2p: initial peer %q: %w", a, err)
		}
		n.peers = append(n.peers, *info)
	}
	// A small memory budget, but room for every node of a large cluster to
	// connect to a hub (the default scaling admits only ~64 inbound peers).
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	conns := rcmgr.ResourceLimits{Conns: 1024, ConnsInbound: 1024, ConnsOutbound: 1024, Streams: 8192, StreamsInbound: 8192, StreamsOutbound: 8192, FD: 1024}
	limited := rcmgr.PartialLimitConfig{System: conns, Transient: conns}.Build(limits.Scale(128<<20, 1024))
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limited))
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	listen := fmt.Sprintf("/ip4/%s/tcp/%d", cfg.ListenHost, cfg.ListenPort)
	n.host, err = libp2p.New(
		libp2p.Identity(sk),
		libp2p.ListenAddrStrings(listen),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ConnectionGater(n.faults),
		libp2p.ResourceManager(rm),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	if err != nil {
		return nil, fmt.Errorf("p2p: listen on %s: %w", listen, err)
	}
	n.ps, err = pubsub.NewGossipSub(ctx, n.host, pubsub.WithMaxMessageSize(maxMessage))
	if err == nil {
		n.blocks, err = n.ps.Join(cfg.BlockTopic)
	}
	if err == nil {
		n.txs, err = n.ps.Join(cfg.TxTopic)
	}
	if err != nil {
		n.host.Close()
		return nil, fmt.Errorf("p2p: gossipsub: %w", err)
	}
	for _, info := range n.book {
		if info.ID != n.host.ID() {
			n.host.Peerstore().AddAddrs(info.ID, info.Addrs, time.Hour*24*365)
		}
	}
	n.host.SetStreamHandler(SyncProtocol, n.serveSync)
	n.host.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		go h.OnPeer(c.RemotePeer())
	}})
	for _, t := range []struct {
		topic *pubsub.Topic
		f     func(peer.ID, []byte)
	}{{n.blocks, h.OnBlock}, {n.txs, h.OnTx}} {
		sub, err := t.topic.Subscribe(pubsub.WithBufferSize(4096))
		if err != nil {
			n.host.Close()
			return nil, fmt.Errorf("p2p: subscribe: %w", err)
		}
		n.wg.Add(1)
		go n.receive(ctx, sub, t.f)
	}
	n.wg.Add(1)
	go n.dialLoop(ctx)
	ok = true
	return n, nil
}

// Close stops the loops and the host.
func (n *Network) Close() error {
	n.cancel()
	err := n.host.Close()
	n.wg.Wait()
	return err
}

// ID is the local peer id.
func (n *Network) ID() peer.ID { return n.host.ID() }

// Name is the node name of p, or its id when unknown.
func (n *Network) Name(p peer.ID) string {
	if s, ok := n.names[p]; ok {
		return s
	}
	return p.String()
}

func (n *Network) receive(ctx context.Context, sub *pubsub.Subscription, f func(peer.ID, []byte)) {
	defer n.wg.Done()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		from := m.ReceivedFrom
		if from == n.host.ID() {
			continue
		}
		// Link faults apply on receipt: the message from a faulted peer is
		// dropped or handed over late.
		if n.faults.isBlocked(from) {
			continue
		}
		drop, delay := n.faults.shape(from)
		if drop {
			continue
		}
		data := m.Data
		if delay > 0 {
			time.AfterFunc(delay, func() { f(from, data) })
			continue
		}
		f(from, data)
	}
}

// Dial retry bounds: a peer that is not up yet is retried after
// dialRetryMin, doubling up to dialRetryMax while some peer is missing;
// with every peer connected the loop checks every dialRetryMax.
const (
	dialRetryMin = 50 * time.Millisecond
	dialRetryMax = 500 * time.Millisecond
)

// dialLoop keeps the configured peers connected unless they are blocked. It
// dials at once and retries quickly: cluster nodes start together, so the
// first dial often reaches a peer that is not listening yet.
func (n *Network) dialLoop(ctx context.Context) {
	defer n.wg.Done()
	backoff := dialRetryMin
	for {
		missing := false
		for _, p := range n.peers {
			if n.host.Network().Connectedness(p.ID) == network.Connected || n.faults.isBlocked(p.ID) {
				continue
			}
			// Force a direct dial: the swarm otherwise backs off a failed
			// address for at least 5 s, which would hold the whole cluster
			// back whenever a peer started a moment late.
			dctx, cancel := context.WithTimeout(network.WithForceDirectDial(ctx, "configured peer"), 2*time.Second)
			if err := n.host.Connect(dctx, p); err != nil {
				missing = true
				n.log.Debug("dial failed", "peer", n.Name(p.ID), "err", err)
			} else {
				n.log.Info("connected", "peer", n.Name(p.ID))
			}
			cancel()
		}
		wait := dialRetryMax
		if missing {
			wait, backoff = backoff, min(2*backoff, dialRetryMax)
		} else {
			backoff = dialRetryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// PublishBlock gossips an encoded block.
func (n *Network) PublishBlock(ctx context.Context, data []byte) error {
	return n.blocks.Publish(ctx, data)
}

// PublishTx gossips an encoded transaction.
func (n *Network) PublishTx(ctx context.Context, data []byte) error {
	return n.txs.Publish(ctx, data)
}

// Peers are the connected peers.
func (n *Network) Peers() []peer.ID { return n.host.Network().Peers() }

// Info is /network/info.
func (n *Network) Info() nodeapi.NetworkInfo {
	info := nodeapi.NetworkInfo{PeerID: n.host.ID().String(), ListenAddresses: []string{}}
	for _, a := range n.host.Addrs() {
		info.ListenAddresses = append(info.ListenAddresses, a.String())
	}
	info.NPeers = len(n.host.Network().Peers())
	info.NConnections = len(n.host.Network().Conns())
	return info
}

// resolve turns peer ids or node names into peer ids.
func (n *Network) resolve(names []string) ([]peer.ID, error) {
	var out []peer.ID
	for _, s := range names {
		if id, ok := n.cfg.Names[s]; ok {
			s = id
		}
		p, err := peer.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("unknown peer %q", s)
		}
		out = append(out, p)
	}
	return out, nil
}

// Block cuts the given peers off: the gater refuses them and open
// connections close.
func (n *Network) Block(names []string) error {
	ps, err := n.resolve(names)
	if err != nil {
		return err
	}
	n.faults.setBlocked(ps, true)
	for _, p := range ps {
		n.host.Network().ClosePeer(p)
	}
	n.log.Info("peers blocked", "peers", names)
	return nil
}

// Unblock lifts Block; the dial loop reconnects configured peers.
func (n *Network) Unblock(names []string) error {
	ps, err := n.resolve(names)
	if err != nil {
		return err
	}
	n.faults.setBlocked(ps, false)
	n.log.Info("peers unblocked", "peers", names)
	return nil
}

// SetLink sets (or, with zero values, heals) the fault on links to peers.
func (n *Network) SetLink(f nodeapi.LinkFault) error {
	if f.Loss < 0 || f.Loss > 1 || f.DelayMS < 0 || f.JitterMS < 0 {
		return errors.New("link fault: want delay_ms >= 0, jitter_ms >= 0 and 0 <= loss <= 1")
	}
	ps, err := n.resolve(f.Peers)
	if err != nil {
		return err
	}
	n.faults.setLink(ps, link{delay: time.Duration(f.DelayMS) * time.Millisecond, jitter: time.Duration(f.JitterMS) * time.Millisecond, loss: f.Loss})
	return nil
}

// Faults reads back the network faults.
func (n *Network) Faults() ([]string, []nodeapi.LinkFault) { return n.faults.snapshot(n.Name) }

// syncRequest asks a peer for its tip (Tip) or for blocks from an id back.
type syncRequest struct {
	From *nodeapi.Hash `json:"from,omitempty"`
	Max  int           `json:"max,omitempty"`
}

type syncResponse struct {
	Tip    nodeapi.Hash `json:"tip"`
	Blocks []wire.Block `json:"blocks,omitempty"`
}

func (n *Network) serveSync(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	var req syncRequest
	if err := json.NewDecoder(io.LimitReader(s, 4096)).Decode(&req); err != nil {
		s.Reset()
		return
	}
	resp := syncResponse{Tip: n.handler.SyncTip()}
	if req.From != nil {
		resp.Blocks = n.handler.SyncBlocks(*req.From, min(max(req.Max, 1), 128))
	}
	w := bufio.NewWriter(s)
	if json.NewEncoder(w).Encode(resp) == nil {
		w.Flush()
	}
}

// Sync asks p for its tip and, when from is set, for up to max blocks from
// from back towards genesis. Link faults apply to the exchange.
func (n *Network) Sync(ctx context.Context, p peer.ID, from *nodeapi.Hash, max int) (nodeapi.Hash, []wire.Block, error) {
	if n.faults.isBlocked(p) {
		return nodeapi.Hash{}, nil, errors.New("peer blocked")
	}
	drop, delay := n.faults.shape(p)
	if drop {
		return nodeapi.Hash{}, nil, errors.New("lost by link fault")
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nodeapi.Hash{}, nil, ctx.Err()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := n.host.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		return nodeapi.Hash{}, nil, err
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if err := json.NewEncoder(s).Encode(syncRequest{From: from, Max: max}); err != nil {
		s.Reset()
		return nodeapi.Hash{}, nil, err
	}
	var resp syncResponse
	if err := json.NewDecoder(io.LimitReader(s, maxMessage)).Decode(&resp); err != nil {
		s.Reset()
		return nodeapi.Hash{}, nil, err
	}
	return resp.Tip, resp.Blocks, nil
}

// ListenAddrs are the host's listen multiaddrs.
func (n *Network) ListenAddrs() []ma.Multiaddr { return n.host.Addrs() }
