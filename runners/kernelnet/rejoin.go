package kernelnet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Rejoin gives a node a new endpoint and address after its namespace was
// replaced (a container or pod started again gets a fresh one, without the
// rules of the faults in force) and applies those faults again: the node's
// own rules and delay, and the other nodes' rules that name its address.
// A fault stays keyed by its id; Heal removes it as before.
func (n *Network) Rejoin(ctx context.Context, node string, ep Endpoint, addr netip.Addr) error {
	nn, err := n.node(node)
	if err != nil {
		return err
	}
	if !addr.Is4() {
		return fmt.Errorf("rejoin %s: want an IPv4 address, got %v", node, addr)
	}
	n.mu.Lock()
	old := nn.ep
	nn.ep, nn.addr, nn.away = ep, addr, false
	var faults []*fault
	for _, f := range n.faults {
		if slices.Contains(f.nodes, nn) || touches(f, nn) {
			faults = append(faults, f)
		}
	}
	n.mu.Unlock()
	errs := []error{old.Close()}
	for _, f := range faults {
		if f.kind == kindDelay {
			if slices.Contains(f.nodes, nn) {
				errs = append(errs, nn.ep.AddDelay(ctx, nn.addr, f.delay, f.jitter))
			}
			continue
		}
		// Every holder's rules again: the rejoined node's are gone with its
		// old namespace, the others' may name its old address.
		errs = append(errs, eachNode(n.present(f.nodes), func(h *nodeNet) error {
			if h != nn {
				if err := h.ep.RemoveDrops(ctx, f.id); err != nil {
					return err
				}
			}
			return h.ep.AddDrops(ctx, f.id, f.drops(h))
		}))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rejoin %s: %w", node, err)
	}
	return nil
}

// touches reports whether one of f's links ends at nn.
func touches(f *fault, nn *nodeNet) bool {
	for _, l := range f.links {
		if l.from == nn || l.to == nn {
			return true
		}
	}
	return false
}

// Leave marks a node as down: its namespace is gone or going (a stopped
// container, a deleted pod). Until Rejoin, faults leave it out: no rules
// are added or removed there, and no link to or from it is probed (reports
// count them as away). Rejoin applies what is in force then.
func (n *Network) Leave(node string) error {
	nn, err := n.node(node)
	if err != nil {
		return err
	}
	n.mu.Lock()
	nn.away = true
	n.mu.Unlock()
	return nil
}

func (n *Network) isAway(nn *nodeNet) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return nn.away
}

// present returns the nodes that are not away.
func (n *Network) present(nodes []*nodeNet) []*nodeNet {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*nodeNet, 0, len(nodes))
	for _, nn := range nodes {
		if !nn.away {
			out = append(out, nn)
		}
	}
	return out
}

// presentLinks returns the links between present nodes and how many it
// left out.
func (n *Network) presentLinks(links []link) ([]link, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]link, 0, len(links))
	for _, l := range links {
		if !l.from.away && !l.to.away {
			out = append(out, l)
		}
	}
	return out, len(links) - len(out)
}
