package kernelnet

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// faultKind is what a fault does to its links.
type faultKind int

const (
	kindCut faultKind = iota
	kindLoss
	kindDelay
)

// fault is one applied fault: the links it affects and where it lives.
type fault struct {
	id     string
	kind   faultKind
	links  []link     // directed links the fault affects
	nodes  []*nodeNet // nodes holding its rules or qdiscs
	pct    int
	delay  time.Duration
	jitter time.Duration
	drops  func(*nodeNet) []Drop // the rules of a cut or loss, per node
}

// link is one direction between two nodes.
type link struct{ from, to *nodeNet }

// String names the link as "from→to".
func (l link) String() string { return l.from.name + "→" + l.to.name }

// Cut drops every packet between each node of a and each node of b, both
// ways, then verifies that every one of those links drops a connection
// attempt. Nomosrun still reaches every node. Isolating a node is a cut
// between it and all the others. The fault holds until Heal(id).
func (n *Network) Cut(ctx context.Context, id string, a, b []string) (Report, error) {
	start := time.Now()
	as, bs, err := n.twoSides(a, b)
	if err != nil {
		return Report{}, fmt.Errorf("cut %s: %w", id, err)
	}
	f := &fault{id: id, kind: kindCut}
	for _, x := range as {
		for _, y := range bs {
			f.links = append(f.links, link{x, y}, link{y, x})
		}
	}
	f.nodes = append(append(f.nodes, as...), bs...)
	peers := map[*nodeNet][]*nodeNet{}
	for _, x := range as {
		peers[x] = bs
	}
	for _, y := range bs {
		peers[y] = as
	}
	if err := n.apply(ctx, f, func(nn *nodeNet) (drops []Drop) {
		for _, p := range peers[nn] {
			for _, a := range p.addrs() {
				drops = append(drops, Drop{Out: true, Peer: a, Percent: 100}, Drop{Peer: a, Percent: 100})
			}
		}
		return drops
	}); err != nil {
		return Report{}, err
	}
	return n.verify(ctx, f, start)
}

// Loss drops pct percent (0 to 100) of the packets each node of from sends
// to each node of to, chosen at random per packet; the other direction is
// untouched (call Loss again with the sides swapped for both). It then
// measures the loss of every link with a burst of datagrams.
func (n *Network) Loss(ctx context.Context, id string, from, to []string, pct int) (Report, error) {
	start := time.Now()
	if pct < 0 || pct > 100 {
		return Report{}, fmt.Errorf("loss %s: %d%%: want 0 to 100", id, pct)
	}
	fs, ts, err := n.resolveBoth(from, to)
	if err != nil {
		return Report{}, fmt.Errorf("loss %s: %w", id, err)
	}
	f := &fault{id: id, kind: kindLoss, pct: pct, nodes: fs}
	for _, x := range fs {
		for _, y := range ts {
			if x != y {
				f.links = append(f.links, link{x, y})
			}
		}
	}
	if len(f.links) == 0 {
		return Report{}, fmt.Errorf("loss %s: no link between %v and %v", id, from, to)
	}
	if err := n.apply(ctx, f, func(nn *nodeNet) (drops []Drop) {
		for _, l := range f.links {
			if l.from == nn {
				for _, a := range l.to.addrs() {
					drops = append(drops, Drop{Out: true, Peer: a, Percent: pct})
				}
			}
		}
		return drops
	}); err != nil {
		return Report{}, err
	}
	return n.verify(ctx, f, start)
}

// apply registers f and adds each of its nodes' drops there, all nodes at
// once (each commit waits for the kernel's grace period). On error the
// rules already added are removed and f is forgotten.
func (n *Network) apply(ctx context.Context, f *fault, drops func(*nodeNet) []Drop) error {
	f.drops = drops
	if err := n.register(f); err != nil {
		return err
	}
	err := eachNode(n.present(f.nodes), func(nn *nodeNet) error { return nn.ep.AddDrops(ctx, f.id, drops(nn)) })
	if err != nil {
		n.unregister(f.id)
		return errors.Join(fmt.Errorf("fault %s: %w", f.id, err), n.removeRules(ctx, f))
	}
	return nil
}

// eachNode runs f for every node concurrently and joins the errors, each
// prefixed with its node.
func eachNode(nodes []*nodeNet, f func(*nodeNet) error) error {
	errs := make([]error, len(nodes))
	parallel(len(nodes), 32, func(i int) {
		if err := f(nodes[i]); err != nil {
			errs[i] = fmt.Errorf("%s: %w", nodes[i].name, err)
		}
	})
	return errors.Join(errs...)
}

// Has reports whether fault id is applied.
func (n *Network) Has(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.faults[id] != nil
}

// Heal removes the fault's rules (or qdiscs) and verifies that its links
// pass again, except links another fault still cuts.
func (n *Network) Heal(ctx context.Context, id string) (Report, error) {
	start := time.Now()
	n.mu.Lock()
	f, ok := n.faults[id]
	n.mu.Unlock()
	if !ok {
		return Report{}, fmt.Errorf("heal %s: no such fault", id)
	}
	var err error
	if f.kind == kindDelay {
		err = n.removeNetem(ctx, f)
	} else {
		err = n.removeRules(ctx, f)
	}
	if err != nil {
		return Report{}, fmt.Errorf("heal %s: %w", id, err)
	}
	n.unregister(id)
	return n.verifyHealed(ctx, f, start)
}

func (n *Network) removeRules(ctx context.Context, f *fault) error {
	return eachNode(n.present(f.nodes), func(nn *nodeNet) error { return nn.ep.RemoveDrops(ctx, f.id) })
}

func (n *Network) register(f *fault) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return fmt.Errorf("fault %s: network %s is closed", f.id, n.names.run())
	case f.id == "":
		return errors.New("a fault needs an id")
	case n.faults[f.id] != nil:
		return fmt.Errorf("fault %s is already applied", f.id)
	}
	n.faults[f.id] = f
	return nil
}

func (n *Network) unregister(id string) {
	n.mu.Lock()
	delete(n.faults, id)
	n.mu.Unlock()
}

// cutElsewhere reports whether a fault other than f still cuts l.
func (n *Network) cutElsewhere(f *fault, l link) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.faults {
		if g == f || g.kind != kindCut {
			continue
		}
		for _, gl := range g.links {
			if gl == l {
				return true
			}
		}
	}
	return false
}

// resolve maps node names to nodes.
func (n *Network) resolve(names []string) ([]*nodeNet, error) {
	if len(names) == 0 {
		return nil, errors.New("no nodes")
	}
	out := make([]*nodeNet, 0, len(names))
	seen := map[*nodeNet]bool{}
	for _, name := range names {
		nn, err := n.node(name)
		if err != nil {
			return nil, err
		}
		if !seen[nn] {
			seen[nn] = true
			out = append(out, nn)
		}
	}
	return out, nil
}

func (n *Network) resolveBoth(a, b []string) ([]*nodeNet, []*nodeNet, error) {
	as, err := n.resolve(a)
	if err != nil {
		return nil, nil, err
	}
	bs, err := n.resolve(b)
	if err != nil {
		return nil, nil, err
	}
	return as, bs, nil
}

// twoSides resolves the two sides of a cut, which must not share a node.
func (n *Network) twoSides(a, b []string) ([]*nodeNet, []*nodeNet, error) {
	as, bs, err := n.resolveBoth(a, b)
	if err != nil {
		return nil, nil, err
	}
	for _, x := range as {
		for _, y := range bs {
			if x == y {
				return nil, nil, fmt.Errorf("node %s is on both sides", x.name)
			}
		}
	}
	return as, bs, nil
}
