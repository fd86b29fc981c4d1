package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Network modes of the host runner (Options.Network, NOMOS_HOST_NETWORK).
const (
	// NetworkLoopback runs every node on 127.0.0.1 with its own ports.
	NetworkLoopback = "loopback"
	// NetworkNetns runs each node in its own network namespace with its own
	// address on a private bridge, so faults can be applied by the kernel.
	NetworkNetns = "netns"
	// NetworkAuto is NetworkNetns when this process may manage network
	// namespaces, else NetworkLoopback.
	NetworkAuto = "auto"
)

// netnsPorts are every node's ports in netns mode: each node has its own
// address, so the same ports never clash.
var netnsPorts = Ports{API: 18080, Testing: 18081, P2P: 3000}

// checkNetwork validates a network mode; empty means NetworkAuto: a
// namespace per node wherever this process may make them, so network
// faults are the kernel's; loopback otherwise.
func checkNetwork(mode string) (string, error) {
	switch mode {
	case "":
		return NetworkAuto, nil
	case NetworkLoopback, NetworkNetns, NetworkAuto:
		return mode, nil
	}
	return "", fmt.Errorf("host network %q: want %s, %s or %s (%s)", mode, NetworkLoopback, NetworkNetns, NetworkAuto, env.HostNetwork.Name)
}

// useNetns decides one deploy's mode. netns without the privilege is an
// error naming what is missing; auto falls back to loopback and says why.
func useNetns(mode string, log *slog.Logger) (bool, error) {
	if mode == NetworkLoopback {
		return false, nil
	}
	err := kernelnet.Available()
	switch {
	case err == nil:
		return true, nil
	case mode == NetworkNetns:
		return false, fmt.Errorf("%s=%s: %w", env.HostNetwork.Name, NetworkNetns, err)
	}
	log.Info("host network: loopback, network namespaces are not available", "reason", err)
	return false, nil
}

// networkFaults predicts how a deploy here will apply network faults.
func networkFaults() string {
	mode, err := checkNetwork(env.HostNetwork.Get())
	if err != nil {
		return err.Error()
	}
	if mode == NetworkLoopback {
		return "by the nodes' testing API (" + env.HostNetwork.Name + "=" + NetworkLoopback + ")"
	}
	if err := kernelnet.Available(); err != nil {
		if mode == NetworkNetns {
			return "none: the deploy will fail, " + err.Error()
		}
		return "by the nodes' testing API, the nodes on loopback: " + err.Error()
	}
	return "in the kernel, in a network namespace per node (a delay only where the kernel has sch_netem)"
}

// placement is where one deploy's nodes live: their ports and addresses,
// and the run's network in netns mode (nil on loopback).
type placement struct {
	ports []Ports
	hosts []string
	net   *kernelnet.Network
}

// place allocates loopback ports, or builds the run's network namespaces
// after removing what killed runs left behind.
func place(ctx context.Context, netns bool, nodes []plan.Node, log *slog.Logger) (placement, error) {
	if !netns {
		ports, err := allocPorts(len(nodes))
		if err != nil {
			return placement{}, err
		}
		hosts := slices.Repeat([]string{"127.0.0.1"}, len(nodes))
		return placement{ports: ports, hosts: hosts}, nil
	}
	if removed, err := kernelnet.Clean(ctx, kernelnet.DefaultPrefix); err != nil {
		log.Warn("could not remove what earlier runs left", "err", err)
	} else if len(removed) > 0 {
		log.Info("removed what killed runs left", "removed", strings.Join(removed, ", "))
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	net, err := kernelnet.Create(ctx, kernelnet.Options{Nodes: names})
	if err != nil {
		return placement{}, err
	}
	p := placement{net: net}
	for _, name := range names {
		addr, err := net.Addr(name)
		if err != nil {
			return placement{}, errors.Join(err, net.Close())
		}
		p.ports = append(p.ports, netnsPorts)
		p.hosts = append(p.hosts, addr.String())
	}
	log.Info("host network: one namespace per node", "network", net.Name(), "subnet", net.Subnet())
	forwardTelemetry(net, log)
	return p, nil
}

// release frees what place took.
func (p placement) release() error {
	if p.net != nil {
		return p.net.Close()
	}
	releasePorts(p.ports)
	return nil
}

// starter starts a node process: in its namespace in netns mode.
func (p placement) starter(node string) func(*exec.Cmd) error {
	if p.net == nil {
		return (*exec.Cmd).Start
	}
	return func(cmd *exec.Cmd) error { return p.net.Start(node, cmd) }
}

var _ runners.NetFaulter = (*Cluster)(nil)
