package kernelnet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsEndpoint works in a namespace this process holds a handle to, by
// netlink and nftables sockets opened there and by threads switched into it.
// A closed handle (netns.None) is this process's own namespace, worked in
// without switching: setns needs CAP_SYS_ADMIN, which a pod's helper
// container does not have.
type nsEndpoint struct {
	ns  netns.NsHandle
	own bool // Close closes the handle

	mu sync.Mutex // one nftables batch at a time
	rs *ruleset   // created on the first fault
}

// NamespaceEndpoint returns an Endpoint working in the network namespace of
// process pid (for example a container's first process, as the Docker
// engine reports it). It needs CAP_NET_ADMIN and CAP_SYS_ADMIN (Available)
// and the process in this machine's PID namespace.
func NamespaceEndpoint(pid int) (Endpoint, error) {
	return PathEndpoint("/proc/" + strconv.Itoa(pid) + "/ns/net")
}

// PathEndpoint returns an Endpoint working in the network namespace the
// file at path refers to (/proc/PID/ns/net, /run/netns/NAME).
func PathEndpoint(path string) (Endpoint, error) {
	h, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open the network namespace %s: %w", path, err)
	}
	return &nsEndpoint{ns: h, own: true}, nil
}

// CurrentEndpoint returns an Endpoint working in this process's own network
// namespace; it needs CAP_NET_ADMIN only.
func CurrentEndpoint() Endpoint { return &nsEndpoint{ns: netns.None()} }

// run calls f on a thread in the endpoint's namespace.
func (e *nsEndpoint) run(f func() error) error {
	if !e.ns.IsOpen() {
		return f()
	}
	return inNS(e.ns, f)
}

// withRuleset runs f with the namespace's ruleset, creating the table and
// chains the first time, and never two batches at once.
func (e *nsEndpoint) withRuleset(f func(*ruleset) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rs == nil {
		rs, err := openRuleset(e.ns)
		if err != nil {
			return err
		}
		e.rs = rs
	}
	return f(e.rs)
}

func (e *nsEndpoint) AddDrops(_ context.Context, id string, drops []Drop) error {
	return e.withRuleset(func(rs *ruleset) error {
		for _, d := range drops {
			chain, off := rs.input, uint32(offSaddr)
			if d.Out {
				chain, off = rs.output, offDaddr
			}
			if d.Percent >= 100 {
				rs.drop(chain, id, matchAddr(off, d.Peer))
			} else {
				rs.drop(chain, id, matchAddr(off, d.Peer), chance(uint32(max(d.Percent, 0))))
			}
		}
		return rs.conn.Flush()
	})
}

func (e *nsEndpoint) RemoveDrops(_ context.Context, id string) error {
	return e.withRuleset(func(rs *ruleset) error { return rs.removeTagged(id) })
}

func (e *nsEndpoint) AddDelay(_ context.Context, addr netip.Addr, delay, jitter time.Duration) error {
	return addNetem(e.ns, addr, delay, jitter)
}

func (e *nsEndpoint) RemoveDelay(_ context.Context, addr netip.Addr) error {
	return delNetem(e.ns, addr)
}

func (e *nsEndpoint) Dial(ctx context.Context, to netip.AddrPort, timeout time.Duration) (rtt time.Duration, err error) {
	err = e.run(func() error {
		rtt, err = dialTCP(ctx, to, timeout)
		return err
	})
	return rtt, err
}

func (e *nsEndpoint) ListenTCP(_ context.Context, addr netip.Addr) (netip.AddrPort, io.Closer, error) {
	var ln net.Listener
	err := e.run(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(addr, 0).String())
		return err
	})
	if err != nil {
		return netip.AddrPort{}, nil, err
	}
	go acceptAndClose(ln)
	return ln.Addr().(*net.TCPAddr).AddrPort(), ln, nil
}

func (e *nsEndpoint) ListenUDP(_ context.Context, addr netip.Addr) (Sink, error) {
	var pc net.PacketConn
	err := e.run(func() (err error) {
		pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(addr, 0).String())
		return err
	})
	if err != nil {
		return nil, err
	}
	return newSink(pc.(*net.UDPConn))
}

func (e *nsEndpoint) SendUDP(_ context.Context, to netip.AddrPort, tag [8]byte, count int) error {
	return e.run(func() error { return sendProbes(to, tag, count) })
}

func (e *nsEndpoint) Close() error {
	if e.own && e.ns.IsOpen() {
		return e.ns.Close()
	}
	return nil
}

// udpSink is a Sink on a UDP socket.
type udpSink struct{ c *net.UDPConn }

// burstRcvBuf holds a whole burst, so a slow reader loses nothing and
// every missing datagram was dropped on the link.
const burstRcvBuf = 8 << 20

// newSink makes a Sink of c, with a receive buffer large enough for a
// whole burst (beyond net.core.rmem_max, which CAP_NET_ADMIN allows).
func newSink(c *net.UDPConn) (Sink, error) {
	if err := forceRcvBuf(c, burstRcvBuf); err != nil {
		c.Close()
		return nil, err
	}
	return udpSink{c}, nil
}

func (s udpSink) Addr() netip.AddrPort { return s.c.LocalAddr().(*net.UDPAddr).AddrPort() }
func (s udpSink) Close() error         { return s.c.Close() }

// Count counts distinct datagrams of the burst tag until count arrived or
// none came for 200 ms.
func (s udpSink) Count(ctx context.Context, tag [8]byte, count int) (int, error) {
	seen := make(map[uint32]bool, count)
	buf := make([]byte, 64)
	for len(seen) < count && ctx.Err() == nil {
		_ = s.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		m, _, err := s.c.ReadFrom(buf)
		if err != nil {
			break
		}
		if m == probeDatagram && [8]byte(buf[:8]) == tag {
			seen[binary.BigEndian.Uint32(buf[8:probeDatagram])] = true
		}
	}
	return len(seen), ctx.Err()
}

func putSeq(msg []byte, i uint32) { binary.BigEndian.PutUint32(msg[8:probeDatagram], i) }

// forceRcvBuf sets the receive buffer beyond net.core.rmem_max.
func forceRcvBuf(c *net.UDPConn, size int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("probe receive buffer: %w", serr)
	}
	return nil
}

// probeDatagram is the size of a probe datagram: the burst's tag and a
// sequence number.
const probeDatagram = 12

// dialTCP is Endpoint.Dial in the calling thread's namespace.
func dialTCP(ctx context.Context, to netip.AddrPort, timeout time.Duration) (time.Duration, error) {
	d := net.Dialer{Timeout: timeout}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp4", to.String())
	rtt := time.Since(t0)
	if err != nil {
		return rtt, err
	}
	c.Close()
	return rtt, nil
}

// sendProbes is Endpoint.SendUDP in the calling thread's namespace. A
// send the local firewall refuses (EPERM, a drop in the output chain)
// counts as sent: the datagram is lost on the link.
func sendProbes(to netip.AddrPort, tag [8]byte, count int) error {
	c, err := net.Dial("udp4", to.String())
	if err != nil {
		return err
	}
	defer c.Close()
	msg := make([]byte, probeDatagram)
	copy(msg, tag[:])
	for i := range count {
		putSeq(msg, uint32(i))
		if _, err := c.Write(msg); err != nil && !errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("send probes: %w", err)
		}
	}
	return nil
}

// acceptAndClose serves ln until it is closed, closing every connection.
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
