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
	nn.ep, nn.addr = ep, addr
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
		errs = append(errs, eachNode(f.nodes, func(h *nodeNet) error {
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
