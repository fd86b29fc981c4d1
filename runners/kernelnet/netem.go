package kernelnet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ErrNoNetem is returned when a delay is asked of a kernel without netem.
var ErrNoNetem = errors.New("the kernel has no netem qdisc (sch_netem)")

// Delay holds back every packet the given nodes send by delay, spread
// uniformly by ±jitter, with a netem qdisc on the node's interface. A node
// carries one delay at a time. The added latency is then measured from
// nomosrun: the node's SYN-ACK leaves through the qdisc, so a connection's
// handshake time grows by the delay. Where the kernel has no netem the
// error wraps ErrNoNetem, and nothing is left applied.
func (n *Network) Delay(ctx context.Context, id string, nodes []string, delay, jitter time.Duration) (Report, error) {
	start := time.Now()
	if delay <= 0 || jitter < 0 || jitter > delay {
		return Report{}, fmt.Errorf("delay %s: %v±%v: want a positive delay and a jitter from 0 to the delay", id, delay, jitter)
	}
	ns, err := n.resolve(nodes)
	if err != nil {
		return Report{}, fmt.Errorf("delay %s: %w", id, err)
	}
	if err := n.delayFree(ns); err != nil {
		return Report{}, fmt.Errorf("delay %s: %w", id, err)
	}
	f := &fault{id: id, kind: kindDelay, nodes: ns, delay: delay, jitter: jitter}
	if err := n.register(f); err != nil {
		return Report{}, err
	}
	for i, nn := range ns {
		if n.isAway(nn) {
			continue // Rejoin applies it
		}
		if err := nn.ep.AddDelay(ctx, nn.addr, delay, jitter); err != nil {
			n.unregister(id)
			f.nodes = ns[:i]
			return Report{}, errors.Join(fmt.Errorf("delay %s on %s: %w", id, nn.name, err), n.removeNetem(ctx, f))
		}
	}
	f.nodes = ns
	for _, nn := range ns {
		f.links = append(f.links, n.someLink(nn)...)
	}
	return n.verify(ctx, f, start)
}

// delayFree fails when a node already carries another delay.
func (n *Network) delayFree(ns []*nodeNet) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.faults {
		for _, nn := range ns {
			if g.kind == kindDelay && slices.Contains(g.nodes, nn) {
				return fmt.Errorf("node %s is already delayed by fault %s", nn.name, g.id)
			}
		}
	}
	return nil
}

// someLink returns one link from nn to another node, for the heal check.
func (n *Network) someLink(nn *nodeNet) []link {
	for _, o := range n.order {
		if o != nn {
			return []link{{nn, o}}
		}
	}
	return nil
}

func (n *Network) removeNetem(ctx context.Context, f *fault) error {
	var errs []error
	for _, nn := range n.present(f.nodes) {
		if err := nn.ep.RemoveDelay(ctx, nn.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", nn.name, err))
		}
	}
	return errors.Join(errs...)
}

// addNetem puts a netem root qdisc with the delay and jitter on the
// interface carrying addr in ns. A kernel without sch_netem answers ENOENT
// (unknown qdisc kind).
func addNetem(ns netns.NsHandle, addr netip.Addr, delay, jitter time.Duration) error {
	return onRoot(ns, addr, func(h *netlink.Handle, root netlink.QdiscAttrs) error {
		q := netlink.NewNetem(root, netlink.NetemQdiscAttrs{Latency: uint32(delay.Microseconds()), Jitter: uint32(jitter.Microseconds())})
		if err := h.QdiscAdd(q); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) {
				return ErrNoNetem
			}
			return fmt.Errorf("add netem qdisc: %w", err)
		}
		return nil
	})
}

// delNetem removes the root qdisc of the interface carrying addr, back to
// the default.
func delNetem(ns netns.NsHandle, addr netip.Addr) error {
	return onRoot(ns, addr, func(h *netlink.Handle, root netlink.QdiscAttrs) error {
		q := &netlink.GenericQdisc{QdiscAttrs: root, QdiscType: "netem"}
		if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("delete netem qdisc: %w", err)
		}
		return nil
	})
}

// onRoot calls fn with a netlink handle in ns and the attributes of the
// root qdisc of the interface carrying addr there.
func onRoot(ns netns.NsHandle, addr netip.Addr, fn func(h *netlink.Handle, root netlink.QdiscAttrs) error) error {
	h, err := handleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == addr {
			return fn(h, netlink.QdiscAttrs{LinkIndex: a.LinkIndex, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT})
		}
	}
	return fmt.Errorf("no interface carries %s", addr)
}

// rttProbes is how many handshakes measure a delayed node; the median
// is compared with the delay.
const rttProbes = 9

// probeDelay measures the median handshake time to each delayed node from
// an observer that is not delayed; it must be within 20% of the delay,
// widened by the jitter.
func (n *Network) probeDelay(ctx context.Context, f *fault) Report {
	nodes := n.present(f.nodes)
	r := Report{Fault: f.id, Action: fmt.Sprintf("delayed %v±%v", f.delay, f.jitter), Links: len(nodes)}
	lo := f.delay - f.delay/5 - f.jitter
	hi := f.delay + f.delay/5 + f.jitter
	from, err := n.observer(f.nodes)
	if err != nil {
		r.Detail = append(r.Detail, err.Error())
		return r
	}
	for _, nn := range nodes {
		med, err := medianRTT(ctx, from, nn, rttProbes)
		switch {
		case err != nil:
			r.Detail = append(r.Detail, fmt.Sprintf("%s: %v", nn.name, err))
		case med < lo || med > hi:
			r.Detail = append(r.Detail, fmt.Sprintf("%s: median handshake %v, want %v–%v", nn.name, med, lo, hi))
		default:
			r.Held++
			r.Detail = append(r.Detail, fmt.Sprintf("%s: median handshake %v", nn.name, med.Round(time.Millisecond)))
		}
	}
	return r
}

// observer is where delays are measured from: nomosrun's own namespace
// when it reaches the nodes, else a node outside delayed.
func (n *Network) observer(delayed []*nodeNet) (Endpoint, error) {
	if n.self != nil {
		return n.self, nil
	}
	for _, o := range n.order {
		if !slices.Contains(delayed, o) {
			return o.ep, nil
		}
	}
	return nil, errors.New("every node is delayed: no undelayed node to measure the delay from")
}

// medianRTT times count TCP handshakes from an endpoint to a listener in nn.
func medianRTT(ctx context.Context, from Endpoint, nn *nodeNet, count int) (time.Duration, error) {
	ls, err := listenAll(ctx, []link{{to: nn}})
	if err != nil {
		return 0, err
	}
	defer closeAll(ls)
	rtts := make([]time.Duration, 0, count)
	for range count {
		rtt, err := from.Dial(ctx, ls[nn].addr, healTimeout)
		if err != nil {
			return 0, err
		}
		rtts = append(rtts, rtt)
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2], nil
}
