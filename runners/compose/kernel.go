package compose

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/docker/docker/api/types/container"

	"github.com/nomosrun/nomosrun/runners/kernelfaults"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// errNotLocal is why a container's namespace cannot be entered even with
// the privilege: its pid is not a process of this machine's PID namespace.
var errNotLocal = errors.New("the Docker engine's containers are not in this machine's PID namespace " +
	"(Docker Desktop, a rootless engine, a remote DOCKER_HOST, or nomosrun itself in a container); " +
	"network faults go through docker network disconnect and the nodes' testing API")

// attachKernel makes the cluster's network faults the kernel's, applied in
// the containers' own network namespaces, when this process may enter
// them. Otherwise the cluster says why (KernelNetwork) and the deploy goes
// on: faults fall back to the Isolator and the nodes' testing API.
func (c *Cluster) attachKernel(ctx context.Context) {
	c.Faulter = kernelfaults.Faulter{Log: c.log}
	for _, n := range c.nodes {
		c.Faulter.Nodes = append(c.Faulter.Nodes, n.name)
	}
	net, err := c.kernelNetwork(ctx)
	if err != nil {
		c.Faulter.Why = fmt.Errorf("kernel network faults on compose: %w", err)
		c.log.Info("compose network faults: not in the kernel", "reason", err)
		return
	}
	c.Faulter.Net = net
	c.log.Info("compose network faults: in the kernel, in each container's network namespace")
}

// networkFaults predicts how a deploy here will apply network faults; the
// engine's locality is only known once the containers run.
func networkFaults() string {
	if err := kernelnet.Available(); err != nil {
		return "isolate by docker network disconnect, the others by the nodes' testing API: " + err.Error()
	}
	return "in the kernel, in each container's network namespace, when the Docker engine runs on this machine " +
		"(a delay only where the kernel has sch_netem); else as without the privilege"
}

// kernelNetwork attaches a kernelnet network to the running containers.
// Delays are measured from an undelayed node (no self endpoint): the p2p
// network is internal, nomosrun's own namespace may not reach it.
func (c *Cluster) kernelNetwork(ctx context.Context) (*kernelnet.Network, error) {
	if err := kernelnet.Available(); err != nil {
		return nil, err
	}
	members := make([]kernelnet.Member, 0, len(c.nodes))
	for _, n := range c.nodes {
		ep, addr, err := c.enter(ctx, n)
		if err != nil {
			for _, m := range members {
				m.Endpoint.Close()
			}
			return nil, err
		}
		members = append(members, kernelnet.Member{Name: n.name, Addr: addr, Endpoint: ep})
	}
	return kernelnet.Attach(kernelnet.Options{Prefix: c.runID}, members, nil)
}

// enter inspects a node's running container and returns an endpoint in its
// network namespace and its address on the p2p network. The namespace must
// hold that address: a pid from another PID namespace opens some other
// process's namespace, or none.
func (c *Cluster) enter(ctx context.Context, n *node) (kernelnet.Endpoint, netip.Addr, error) {
	info, err := c.cli.ContainerInspect(ctx, n.container)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("inspect the container of %s: %w", n.name, err)
	}
	addr, err := p2pAddr(info, n)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	if info.State == nil || info.State.Pid <= 0 {
		return nil, netip.Addr{}, fmt.Errorf("the container of %s is not running", n.name)
	}
	ep, err := enterPid(ctx, info.State.Pid, addr)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("%s: %w", n.name, err)
	}
	return ep, addr, nil
}

// enterPid opens the network namespace of process pid and checks that it
// holds addr: binding it proves the namespace is the container's.
func enterPid(ctx context.Context, pid int, addr netip.Addr) (kernelnet.Endpoint, error) {
	ep, err := kernelnet.NamespaceEndpoint(pid)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotLocal, err)
	}
	_, ln, err := ep.ListenTCP(ctx, addr)
	if err != nil {
		ep.Close()
		return nil, fmt.Errorf("the network namespace of process %d does not hold %s: %w (%w)", pid, addr, errNotLocal, err)
	}
	ln.Close()
	return ep, nil
}

// p2pAddr is the container's IPv4 address on the project's p2p network.
func p2pAddr(info container.InspectResponse, n *node) (netip.Addr, error) {
	if info.NetworkSettings != nil {
		for _, ep := range info.NetworkSettings.Networks {
			if ep != nil && ep.NetworkID == n.p2pNetwork {
				a, err := netip.ParseAddr(ep.IPAddress)
				if err != nil || !a.Is4() {
					return netip.Addr{}, fmt.Errorf("%s has no IPv4 address on the %s network (%q)", n.name, p2pNet, ep.IPAddress)
				}
				return a, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("the container of %s is not on the project's %s network", n.name, p2pNet)
}

// rejoin follows a container that came back with a new network namespace
// (restart, start after a kill or stop): the faults in force are applied
// there again, before the node has had time to reach a peer it must not.
func (c *Cluster) rejoin(ctx context.Context, n *node) error {
	if c.Faulter.Net == nil {
		return nil
	}
	ep, addr, err := c.enter(ctx, n)
	if err != nil {
		return fmt.Errorf("re-apply the kernel network faults to %s: %w", n.name, err)
	}
	if err := c.Faulter.Net.Rejoin(ctx, n.name, ep, addr); err != nil {
		return fmt.Errorf("re-apply the kernel network faults: %w", err)
	}
	return nil
}

// closeKernel releases the handles on the containers' namespaces. The
// rules and qdiscs live in those namespaces and go with the containers.
func (c *Cluster) closeKernel() error {
	if c.Faulter.Net == nil {
		return nil
	}
	return c.Faulter.Net.Close()
}
