package p2p

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// recorder is a Handler that records gossip.
type recorder struct {
	mu     sync.Mutex
	blocks []string
	at     []time.Time
}

func (r *recorder) OnBlock(_ peer.ID, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blocks = append(r.blocks, string(data))
	r.at = append(r.at, time.Now())
}
func (r *recorder) OnTx(peer.ID, []byte)                      {}
func (r *recorder) SyncTip() nodeapi.Hash                     { return nodeapi.Hash{7} }
func (r *recorder) SyncBlocks(nodeapi.Hash, int) []wire.Block { return nil }
func (r *recorder) OnPeer(peer.ID)                            {}
func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.blocks...)
}

func port(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pair starts two networks on loopback; b dials a.
func pair(t *testing.T) (a, b *Network, ra, rb *recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	keys := [2][]byte{}
	ids := [2]peer.ID{}
	for i := range keys {
		s := sha256.Sum256([]byte{byte(i)})
		keys[i] = s[:]
		sk, _ := crypto.UnmarshalEd25519PrivateKey(append(append([]byte{}, s[:]...), ed25519Public(s[:])...))
		ids[i], _ = peer.IDFromPrivateKey(sk)
	}
	pa := port(t)
	names := map[string]string{"a": ids[0].String(), "b": ids[1].String()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ra, rb = &recorder{}, &recorder{}
	var err error
	a, err = New(ctx, Config{NodeKey: keys[0], ListenHost: "127.0.0.1", ListenPort: pa, Names: names, BlockTopic: "b", TxTopic: "t"}, ra, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err = New(ctx, Config{NodeKey: keys[1], ListenHost: "127.0.0.1", ListenPort: port(t), Names: names, BlockTopic: "b", TxTopic: "t",
		InitialPeers: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", pa, ids[0])}}, rb, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	waitFor(t, "connection", func() bool { return a.Info().NPeers == 1 && b.Info().NPeers == 1 })
	return a, b, ra, rb
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishUntil publishes numbered messages until the receiver has one.
func publishUntil(t *testing.T, from *Network, to *recorder, msg string) {
	t.Helper()
	waitFor(t, "gossip of "+msg, func() bool {
		from.PublishBlock(context.Background(), []byte(fmt.Sprint(msg, time.Now().UnixNano())))
		for _, m := range to.got() {
			if len(m) >= len(msg) && m[:len(msg)] == msg {
				return true
			}
		}
		return false
	})
}

func TestGossipSyncAndBlockCut(t *testing.T) {
	a, b, _, rb := pair(t)
	publishUntil(t, a, rb, "first")
	tip, _, err := b.Sync(context.Background(), a.ID(), nil, 0)
	if err != nil || tip != (nodeapi.Hash{7}) {
		t.Fatalf("sync tip %v %v", tip, err)
	}
	// Blocking by node name cuts the connection and keeps it cut.
	if err := a.Block([]string{"b"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disconnect", func() bool { return a.Info().NPeers == 0 && b.Info().NPeers == 0 })
	time.Sleep(1200 * time.Millisecond) // b's dial loop retries meanwhile
	if a.Info().NPeers != 0 {
		t.Fatal("blocked peer reconnected")
	}
	if _, _, err := b.Sync(context.Background(), a.ID(), nil, 0); err == nil {
		t.Error("sync through a cut succeeded")
	}
	blocked, _ := a.Faults()
	if len(blocked) != 1 || blocked[0] != "b" {
		t.Errorf("read-back %v", blocked)
	}
	if err := a.Unblock([]string{"b"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnect", func() bool { return a.Info().NPeers == 1 })
	publishUntil(t, a, rb, "second")
	if err := a.Block([]string{"nobody"}); err == nil {
		t.Error("unknown peer name accepted")
	}
}

func TestLinkFaultLossAndDelay(t *testing.T) {
	a, b, _, rb := pair(t)
	publishUntil(t, a, rb, "warm")
	if err := b.SetLink(nodeapi.LinkFault{Peers: []string{"a"}, Loss: 1}); err != nil {
		t.Fatal(err)
	}
	n := len(rb.got())
	for i := range 5 {
		a.PublishBlock(context.Background(), []byte(fmt.Sprint("lost", i)))
	}
	time.Sleep(500 * time.Millisecond)
	if len(rb.got()) != n {
		t.Errorf("messages crossed a link with loss 1")
	}
	if err := b.SetLink(nodeapi.LinkFault{Peers: []string{"a"}, DelayMS: 400}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a.PublishBlock(context.Background(), []byte("slow"))
	waitFor(t, "delayed message", func() bool {
		g := rb.got()
		return len(g) > n && g[len(g)-1] == "slow"
	})
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("delayed message arrived after %v", d)
	}
	if err := b.SetLink(nodeapi.LinkFault{Peers: []string{"a"}, Loss: 2}); err == nil {
		t.Error("loss 2 accepted")
	}
	_, links := b.Faults()
	if len(links) != 1 || links[0].DelayMS != 400 {
		t.Errorf("links read-back %+v", links)
	}
}

// TestDialsPeerThatStartsLate: a node whose configured peer is not
// listening yet connects soon after the peer comes up, without waiting out
// the swarm's dial backoff (5 s and more).
func TestDialsPeerThatStartsLate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var keys [2][]byte
	var ids [2]peer.ID
	for i := range keys {
		s := sha256.Sum256([]byte{byte(i)})
		keys[i] = s[:]
		sk, _ := crypto.UnmarshalEd25519PrivateKey(append(append([]byte{}, s[:]...), ed25519Public(s[:])...))
		ids[i], _ = peer.IDFromPrivateKey(sk)
	}
	pa := port(t)
	names := map[string]string{"a": ids[0].String(), "b": ids[1].String()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := New(ctx, Config{NodeKey: keys[1], ListenHost: "127.0.0.1", ListenPort: port(t), Names: names, BlockTopic: "b", TxTopic: "t",
		InitialPeers: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", pa, ids[0])}}, &recorder{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	time.Sleep(300 * time.Millisecond) // b's first dials fail: a is not up
	a, err := New(ctx, Config{NodeKey: keys[0], ListenHost: "127.0.0.1", ListenPort: pa, Names: names, BlockTopic: "b", TxTopic: "t"}, &recorder{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	start := time.Now()
	waitFor(t, "connection", func() bool { return b.Info().NPeers == 1 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("connected %v after the peer started, want well under the 5 s dial backoff", d)
	}
}
