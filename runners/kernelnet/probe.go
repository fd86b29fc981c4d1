package kernelnet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// healTimeout bounds a connection over a healed link; it covers one lost
// SYN (retransmitted after 1 s).
const healTimeout = 3 * time.Second

// verify probes f's links right after it was applied.
func (n *Network) verify(ctx context.Context, f *fault, start time.Time) (Report, error) {
	applied := time.Since(start)
	var r Report
	switch f.kind {
	case kindCut:
		r = n.probeCut(ctx, f)
	case kindLoss:
		r = n.probeLoss(ctx, f)
	default:
		r = n.probeDelay(ctx, f)
	}
	r.Applied = applied
	return result(r, start)
}

// verifyHealed checks that every link of f that no other fault cuts
// accepts a connection again.
func (n *Network) verifyHealed(ctx context.Context, f *fault, start time.Time) (Report, error) {
	r := Report{Fault: f.id, Action: "healed", Applied: time.Since(start)}
	var links []link
	for _, l := range f.links {
		if n.cutElsewhere(f, l) {
			r.Skipped++
		} else {
			links = append(links, l)
		}
	}
	r.Links = len(links)
	outcomes, err := probeConnect(ctx, links, healTimeout)
	if err != nil {
		return r, err
	}
	for i, o := range outcomes {
		if o.err == nil {
			r.Held++
		} else {
			r.Detail = append(r.Detail, fmt.Sprintf("%s: %v", links[i], o.err))
		}
	}
	return result(r, start)
}

// probeCut tries a TCP connection over each link of f: a cut link lets the
// SYN die, so the attempt times out. A refusal or an answer means packets
// got through.
func (n *Network) probeCut(ctx context.Context, f *fault) Report {
	r := Report{Fault: f.id, Action: "cut", Links: len(f.links)}
	outcomes, err := probeConnect(ctx, f.links, n.opts.CutTimeout)
	if err != nil {
		r.Detail = append(r.Detail, err.Error())
		return r
	}
	for i, o := range outcomes {
		var ne net.Error
		if errors.As(o.err, &ne) && ne.Timeout() {
			r.Held++
			continue
		}
		if o.err == nil {
			r.Detail = append(r.Detail, fmt.Sprintf("%s connected in %v", f.links[i], o.rtt))
		} else {
			r.Detail = append(r.Detail, fmt.Sprintf("%s: %v", f.links[i], o.err))
		}
	}
	if r.OK() {
		r.Detail = append(r.Detail, fmt.Sprintf("no link answered within %v", n.opts.CutTimeout))
	}
	return r
}

// outcome is one connection attempt.
type outcome struct {
	rtt time.Duration
	err error
}

// probeConnect dials, from inside each link's source namespace, a listener
// in its destination namespace, all links at once.
func probeConnect(ctx context.Context, links []link, timeout time.Duration) ([]outcome, error) {
	ls, err := listenAll(links)
	if err != nil {
		return nil, err
	}
	defer closeAll(ls)
	out := make([]outcome, len(links))
	parallel(len(links), 64, func(i int) {
		l := links[i]
		addr := ls[l.to].Addr().String()
		out[i].err = inNS(l.from.ns, func() error {
			d := net.Dialer{Timeout: timeout}
			t0 := time.Now()
			c, err := d.DialContext(ctx, "tcp4", addr)
			out[i].rtt = time.Since(t0)
			if err == nil {
				c.Close()
			}
			return err
		})
	})
	return out, nil
}

// listenAll opens one TCP listener per destination, inside its namespace
// on its address, accepting and closing every connection.
func listenAll(links []link) (map[*nodeNet]net.Listener, error) {
	ls := map[*nodeNet]net.Listener{}
	for _, l := range links {
		if ls[l.to] != nil {
			continue
		}
		var ln net.Listener
		err := inNS(l.to.ns, func() (err error) {
			ln, err = net.Listen("tcp4", netip.AddrPortFrom(l.to.addr, 0).String())
			return err
		})
		if err != nil {
			closeAll(ls)
			return nil, fmt.Errorf("probe listener on %s: %w", l.to.name, err)
		}
		ls[l.to] = ln
		go acceptAndClose(ln)
	}
	return ls, nil
}

func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func closeAll(ls map[*nodeNet]net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// parallel runs f(0..n-1) with at most limit at a time.
func parallel(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// probeLoss sends a burst of numbered datagrams over each link of f and
// counts what arrives. Each link's lost count must fall in the range a
// Binomial(probes, pct/100) variable leaves with probability at most
// falseFailure/links, so a correct fault fails verification with
// probability below falseFailure in all.
func (n *Network) probeLoss(ctx context.Context, f *fault) Report {
	r := Report{Fault: f.id, Action: fmt.Sprintf("losing %d%%", f.pct), Links: len(f.links)}
	probes := n.opts.LossProbes
	lo, hi := binomialRange(probes, float64(f.pct)/100, falseFailure/float64(len(f.links)))
	details := make([]string, len(f.links))
	held := make([]bool, len(f.links))
	parallel(len(f.links), 8, func(i int) {
		lost, err := burst(ctx, f.links[i], probes)
		switch {
		case err != nil:
			details[i] = fmt.Sprintf("%s: %v", f.links[i], err)
		default:
			held[i] = lo <= lost && lost <= hi
			details[i] = fmt.Sprintf("%s lost %d/%d (%.1f%%, allowed %d–%d)", f.links[i], lost, probes,
				100*float64(lost)/float64(probes), lo, hi)
		}
	})
	for i := range held {
		if held[i] {
			r.Held++
		}
	}
	r.Detail = details
	return r
}

// burstRcvBuf holds a whole burst, so a slow reader loses nothing and
// every missing datagram was dropped on the link.
const burstRcvBuf = 8 << 20

// burst sends count datagrams over l and returns how many did not arrive.
func burst(ctx context.Context, l link, count int) (int, error) {
	var pc net.PacketConn
	err := inNS(l.to.ns, func() (err error) {
		pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(l.to.addr, 0).String())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("probe listener: %w", err)
	}
	defer pc.Close()
	if err := forceRcvBuf(pc.(*net.UDPConn), burstRcvBuf); err != nil {
		return 0, err
	}
	dst := pc.LocalAddr().String()
	var nonce [8]byte
	binary.BigEndian.PutUint64(nonce[:], uint64(time.Now().UnixNano()))
	err = inNS(l.from.ns, func() error {
		c, err := net.Dial("udp4", dst)
		if err != nil {
			return err
		}
		defer c.Close()
		msg := make([]byte, 12)
		copy(msg, nonce[:])
		for i := range count {
			binary.BigEndian.PutUint32(msg[8:], uint32(i))
			if _, err := c.Write(msg); err != nil && !errors.Is(err, syscall.EPERM) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("send probes: %w", err)
	}
	return count - receive(ctx, pc, nonce, count), nil
}

// receive counts distinct datagrams of this burst until count arrived or
// none came for a while.
func receive(ctx context.Context, pc net.PacketConn, nonce [8]byte, count int) int {
	seen := make(map[uint32]bool, count)
	buf := make([]byte, 64)
	for len(seen) < count && ctx.Err() == nil {
		_ = pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		m, _, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		if m == 12 && [8]byte(buf[:8]) == nonce {
			seen[binary.BigEndian.Uint32(buf[8:12])] = true
		}
	}
	return len(seen)
}

// forceRcvBuf sets the receive buffer beyond net.core.rmem_max, which
// CAP_NET_ADMIN allows.
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
