package p2p

import (
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// link is the fault on the link to one peer.
type link struct {
	delay, jitter time.Duration
	loss          float64
}

// faults holds the testing-API network faults; it is the host's connection
// gater, so a blocked peer can neither dial nor be dialled: a real cut.
type faults struct {
	mu      sync.Mutex
	blocked map[peer.ID]bool
	links   map[peer.ID]link
}

func newFaults() *faults {
	return &faults{blocked: map[peer.ID]bool{}, links: map[peer.ID]link{}}
}

func (f *faults) isBlocked(p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blocked[p]
}

func (f *faults) setBlocked(ps []peer.ID, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range ps {
		if on {
			f.blocked[p] = true
		} else {
			delete(f.blocked, p)
		}
	}
}

func (f *faults) setLink(ps []peer.ID, l link) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range ps {
		if l == (link{}) {
			delete(f.links, p)
		} else {
			f.links[p] = l
		}
	}
}

// shape decides the fate of one message on the link to p: drop it, or
// deliver it after a delay.
func (f *faults) shape(p peer.ID) (drop bool, delay time.Duration) {
	f.mu.Lock()
	l, ok := f.links[p]
	f.mu.Unlock()
	if !ok {
		return false, 0
	}
	if l.loss > 0 && rand.Float64() < l.loss {
		return true, 0
	}
	delay = l.delay
	if l.jitter > 0 {
		delay += time.Duration(rand.Int64N(int64(l.jitter) + 1))
	}
	return false, delay
}

func (f *faults) snapshot(name func(peer.ID) string) ([]string, []nodeapi.LinkFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var blocked []string
	for p := range f.blocked {
		blocked = append(blocked, name(p))
	}
	sort.Strings(blocked)
	links := []nodeapi.LinkFault{}
	for p, l := range f.links {
		links = append(links, nodeapi.LinkFault{Peers: []string{name(p)}, DelayMS: l.delay.Milliseconds(), JitterMS: l.jitter.Milliseconds(), Loss: l.loss})
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Peers[0] < links[j].Peers[0] })
	return blocked, links
}

// InterceptPeerDial implements connmgr.ConnectionGater.
func (f *faults) InterceptPeerDial(p peer.ID) bool { return !f.isBlocked(p) }

// InterceptAddrDial implements connmgr.ConnectionGater.
func (f *faults) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !f.isBlocked(p) }

// InterceptAccept implements connmgr.ConnectionGater.
func (f *faults) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured implements connmgr.ConnectionGater.
func (f *faults) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !f.isBlocked(p)
}

// InterceptUpgraded implements connmgr.ConnectionGater.
func (f *faults) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return !f.isBlocked(c.RemotePeer()), 0
}
