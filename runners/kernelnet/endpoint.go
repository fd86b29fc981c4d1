package kernelnet

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

// Endpoint does, inside one node's network namespace, what faults and their
// probes need. The namespace may be one this package created (host runner),
// a container's reached from this process (NamespaceEndpoint), or a pod's
// reached through an agent running in it (package kernelnet/agent).
type Endpoint interface {
	// AddDrops adds nftables rules tagged id that drop what each Drop
	// matches, all in one batch.
	AddDrops(ctx context.Context, id string, drops []Drop) error
	// RemoveDrops deletes every rule tagged id.
	RemoveDrops(ctx context.Context, id string) error
	// AddDelay puts a netem qdisc with the delay and jitter on the
	// interface carrying addr; a kernel without netem answers an error
	// wrapping ErrNoNetem.
	AddDelay(ctx context.Context, addr netip.Addr, delay, jitter time.Duration) error
	// RemoveDelay puts that interface back to its default qdisc.
	RemoveDelay(ctx context.Context, addr netip.Addr) error
	// Dial opens and closes a TCP connection to to and returns how long the
	// handshake took. A handshake that did not finish within timeout is an
	// error for which IsTimeout holds.
	Dial(ctx context.Context, to netip.AddrPort, timeout time.Duration) (time.Duration, error)
	// ListenTCP opens a listener on addr (port chosen by the kernel) that
	// accepts and closes every connection, until closed.
	ListenTCP(ctx context.Context, addr netip.Addr) (netip.AddrPort, io.Closer, error)
	// ListenUDP opens a datagram sink on addr that counts probe bursts.
	ListenUDP(ctx context.Context, addr netip.Addr) (Sink, error)
	// SendUDP sends count probe datagrams marked with tag to to.
	SendUDP(ctx context.Context, to netip.AddrPort, tag [8]byte, count int) error
	// Close releases the endpoint (not the namespace it works in).
	Close() error
}

// Sink counts the datagrams of probe bursts sent to it.
type Sink interface {
	// Addr is where the sink listens.
	Addr() netip.AddrPort
	// Count waits until count distinct datagrams marked tag arrived or none
	// came for a while, and returns how many arrived.
	Count(ctx context.Context, tag [8]byte, count int) (int, error)
	// Close stops listening.
	Close() error
}

// Drop is one packet match of a fault, seen from the node holding the rule.
type Drop struct {
	// Out matches packets the node sends to Peer; otherwise packets it
	// receives from Peer.
	Out bool
	// Peer is the other end's address.
	Peer netip.Addr
	// Percent is the share of matching packets dropped, chosen at random
	// per packet; 100 drops them all.
	Percent int
}

// IsTimeout reports whether a Dial error is a handshake that did not finish
// in time, which is what a cut link does to it; a refusal or a route error
// means packets got through or never left.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
