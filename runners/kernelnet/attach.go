package kernelnet

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netns"
)

// Member is a node whose network namespace was made by someone else (a
// container engine, a pod's runtime), reached through an Endpoint.
type Member struct {
	// Name is the node's name.
	Name string
	// Addr is the address probes reach the node on.
	Addr netip.Addr
	// Aliases are other addresses peers dial the node by (a Kubernetes
	// Service's cluster IP): cuts and loss match them too.
	Aliases []netip.Addr
	// Endpoint works in the node's namespace; the Network closes it.
	Endpoint Endpoint
}

// Attach makes a Network of namespaces that already exist, for faults and
// their probes; opts.Nodes is ignored. self, when not nil, works in a
// namespace that reaches every member (nomosrun's own, beside a container
// bridge) and measures delays; without it a node outside the delay does.
// Close closes the endpoints and leaves the namespaces.
func Attach(opts Options, members []Member, self Endpoint) (*Network, error) {
	opts.Nodes = nil
	for _, m := range members {
		opts.Nodes = append(opts.Nodes, m.Name)
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	n := &Network{
		opts: opts, names: names{opts.Prefix, "attached"}, hub: netns.None(), self: self, attached: true,
		byName: map[string]*nodeNet{}, faults: map[string]*fault{},
	}
	for _, m := range members {
		if !m.Addr.Is4() || m.Endpoint == nil {
			return nil, errors.Join(fmt.Errorf("attach %s: want an IPv4 address and an endpoint", m.Name), n.Close())
		}
		nn := &nodeNet{name: m.Name, addr: m.Addr, aliases: m.Aliases, ep: m.Endpoint, ns: netns.None()}
		n.order = append(n.order, nn)
		n.byName[m.Name] = nn
	}
	return n, nil
}
