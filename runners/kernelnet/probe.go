package kernelnet

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"
)

// healTimeout bounds a connection over a healed link; it covers one lost
// SYN (retransmitted after 1 s).
const healTimeout = 3 * time.Second

// verify probes f's links right after it was applied.
func (n *Network) verify(ctx context.Context, f *fault, start time.Time) (Report, error) {
	applied := time.Since(start)
	links, away := n.presentLinks(f.links)
	var r Report
	switch f.kind {
	case kindCut:
		r = n.probeCut(ctx, f, links)
	case kindLoss:
		r = n.probeLoss(ctx, f, links)
	default:
		r = n.probeDelay(ctx, f)
		away = len(f.nodes) - len(n.present(f.nodes))
	}
	r.Applied, r.Away = applied, away
	return result(r, start)
}

// verifyHealed checks that every link of f that no other fault cuts
// accepts a connection again.
func (n *Network) verifyHealed(ctx context.Context, f *fault, start time.Time) (Report, error) {
	r := Report{Fault: f.id, Action: "healed", Applied: time.Since(start)}
	var links []link
	present, away := n.presentLinks(f.links)
	for _, l := range present {
		if n.cutElsewhere(f, l) {
			r.Skipped++
		} else {
			links = append(links, l)
		}
	}
	r.Links, r.Away = len(links), away
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

// cutRounds is how many times a cut link whose source proved slow is
// probed before the measurement counts as inconclusive.
const cutRounds = 3

// probeCut tries a TCP connection over each link of f: a cut link lets the
// SYN die, so the attempt times out. A refusal or an answer means packets
// got through. A timeout only counts when its source, at the same time,
// connects to its own address within the same timeout: a source too slow
// for that (a machine under load) proves nothing, and its links are probed
// again.
func (n *Network) probeCut(ctx context.Context, f *fault, links []link) Report {
	r := Report{Fault: f.id, Action: "cut", Links: len(links)}
	pending := links
	for round := 0; round < cutRounds && len(pending) > 0 && ctx.Err() == nil; round++ {
		outcomes, err := probeConnect(ctx, pending, n.opts.CutTimeout)
		if err != nil {
			r.Detail = append(r.Detail, err.Error())
			return r
		}
		slow := slowSources(ctx, pending, outcomes, n.opts.CutTimeout)
		var again []link
		for i, o := range outcomes {
			l := pending[i]
			switch {
			case IsTimeout(o.err) && slow[l.from]:
				again = append(again, l)
			case IsTimeout(o.err):
				r.Held++
			case o.err == nil:
				r.Detail = append(r.Detail, fmt.Sprintf("%s connected in %v", l, o.rtt))
			default:
				r.Detail = append(r.Detail, fmt.Sprintf("%s: %v", l, o.err))
			}
		}
		pending = again
	}
	for _, l := range pending {
		r.Detail = append(r.Detail, fmt.Sprintf("%s: inconclusive: %s did not reach its own address within %v either, %d times",
			l, l.from.name, n.opts.CutTimeout, cutRounds))
	}
	if r.OK() {
		r.Detail = append(r.Detail, fmt.Sprintf("no link answered within %v", n.opts.CutTimeout))
	}
	return r
}

// slowSources returns the sources of timed-out links that cannot connect
// to a listener on their own address within timeout either.
func slowSources(ctx context.Context, links []link, outcomes []outcome, timeout time.Duration) map[*nodeNet]bool {
	var sources []*nodeNet
	seen := map[*nodeNet]bool{}
	for i, o := range outcomes {
		if from := links[i].from; IsTimeout(o.err) && !seen[from] {
			seen[from] = true
			sources = append(sources, from)
		}
	}
	slow := make([]bool, len(sources))
	parallel(len(sources), 64, func(i int) {
		nn := sources[i]
		addr, ln, err := nn.ep.ListenTCP(ctx, nn.addr)
		if err == nil {
			_, err = nn.ep.Dial(ctx, addr, timeout)
			ln.Close()
		}
		slow[i] = err != nil
	})
	out := map[*nodeNet]bool{}
	for i, nn := range sources {
		out[nn] = slow[i]
	}
	return out
}

// outcome is one connection attempt.
type outcome struct {
	rtt time.Duration
	err error
}

// probeConnect dials, from each link's source, a listener at its
// destination, all links at once.
func probeConnect(ctx context.Context, links []link, timeout time.Duration) ([]outcome, error) {
	ls, err := listenAll(ctx, links)
	if err != nil {
		return nil, err
	}
	defer closeAll(ls)
	out := make([]outcome, len(links))
	parallel(len(links), 64, func(i int) {
		l := links[i]
		out[i].rtt, out[i].err = l.from.ep.Dial(ctx, ls[l.to].addr, timeout)
	})
	return out, nil
}

// listener is a probe listener at a link's destination.
type listener struct {
	addr netip.AddrPort
	io.Closer
}

// listenAll opens one TCP listener per destination, on its address,
// accepting and closing every connection.
func listenAll(ctx context.Context, links []link) (map[*nodeNet]listener, error) {
	ls := map[*nodeNet]listener{}
	for _, l := range links {
		if _, ok := ls[l.to]; ok {
			continue
		}
		addr, c, err := l.to.ep.ListenTCP(ctx, l.to.addr)
		if err != nil {
			closeAll(ls)
			return nil, fmt.Errorf("probe listener on %s: %w", l.to.name, err)
		}
		ls[l.to] = listener{addr, c}
	}
	return ls, nil
}

func closeAll(ls map[*nodeNet]listener) {
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
func (n *Network) probeLoss(ctx context.Context, f *fault, links []link) Report {
	r := Report{Fault: f.id, Action: fmt.Sprintf("losing %d%%", f.pct), Links: len(links)}
	probes := n.opts.LossProbes
	lo, hi := binomialRange(probes, float64(f.pct)/100, falseFailure/float64(max(len(links), 1)))
	details := make([]string, len(links))
	held := make([]bool, len(links))
	parallel(len(links), 8, func(i int) {
		lost, err := burst(ctx, links[i], probes)
		switch {
		case err != nil:
			details[i] = fmt.Sprintf("%s: %v", links[i], err)
		default:
			held[i] = lo <= lost && lost <= hi
			details[i] = fmt.Sprintf("%s lost %d/%d (%.1f%%, allowed %d–%d)", links[i], lost, probes,
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

// burst sends count datagrams over l and returns how many did not arrive.
func burst(ctx context.Context, l link, count int) (int, error) {
	sink, err := l.to.ep.ListenUDP(ctx, l.to.addr)
	if err != nil {
		return 0, fmt.Errorf("probe listener: %w", err)
	}
	defer sink.Close()
	var tag [8]byte
	binary.BigEndian.PutUint64(tag[:], uint64(time.Now().UnixNano()))
	if err := l.from.ep.SendUDP(ctx, sink.Addr(), tag, count); err != nil {
		return 0, fmt.Errorf("send probes: %w", err)
	}
	got, err := sink.Count(ctx, tag, count)
	if err != nil {
		return 0, fmt.Errorf("count probes: %w", err)
	}
	return count - got, nil
}
