package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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

// KernelNetwork reports whether the cluster runs in netns mode.
func (c *Cluster) KernelNetwork() error {
	if c.place.net == nil {
		return fmt.Errorf("the host cluster runs on loopback; kernel network faults need %s=%s (or %s) and CAP_NET_ADMIN and CAP_SYS_ADMIN",
			env.HostNetwork.Name, NetworkNetns, NetworkAuto)
	}
	return nil
}

// CutLinks drops all traffic between the two sides in the kernel and
// verifies every cross link drops a connection attempt.
func (c *Cluster) CutLinks(ctx context.Context, id string, a, b []string) (string, error) {
	if err := c.KernelNetwork(); err != nil {
		return "", err
	}
	r, err := c.place.net.Cut(ctx, id, a, b)
	return c.logFault(id, "cut", r, err)
}

// ImpairLinks drops a share of what from sends to to (nftables, in whole
// percent), and
// delays everything the from nodes send (netem on their interface, so to
// must be every other node when a delay is asked). Sub-faults id/loss and
// id/delay heal together with HealLinks(id).
func (c *Cluster) ImpairLinks(ctx context.Context, id string, from, to []string, imp runners.Impairment) (string, error) {
	if err := c.KernelNetwork(); err != nil {
		return "", err
	}
	if err := c.checkImpairment(from, to, imp); err != nil {
		return "", fmt.Errorf("impair %s: %w", id, err)
	}
	var lines []string
	if imp.Loss > 0 {
		r, err := c.place.net.Loss(ctx, id+"/loss", from, to, int(math.Round(imp.Loss*100)))
		line, err := c.logFault(id, "loss", r, err)
		if err != nil {
			return line, err
		}
		lines = append(lines, line)
	}
	if imp.Delay > 0 {
		r, err := c.place.net.Delay(ctx, id+"/delay", from, imp.Delay, imp.Jitter)
		if errors.Is(err, kernelnet.ErrNoNetem) {
			err = fmt.Errorf("%w: %w", runners.ErrKernelLacks, err)
		}
		line, err := c.logFault(id, "delay", r, err)
		if err != nil {
			// All or nothing: a failed delay takes the loss part with it.
			return line, errors.Join(err, c.healAll(ctx, id))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "; "), nil
}

// checkImpairment rejects what the kernel path cannot do exactly.
func (c *Cluster) checkImpairment(from, to []string, imp runners.Impairment) error {
	if imp.Loss < 0 || imp.Loss > 1 || imp.Delay < 0 || imp.Jitter < 0 {
		return fmt.Errorf("%+v: want loss from 0 to 1 and no negative duration", imp)
	}
	if imp.Delay == 0 {
		return nil
	}
	for _, f := range from {
		for _, n := range c.nodes {
			if n.name != f && !slices.Contains(to, n.name) {
				return fmt.Errorf("a delay applies to everything %s sends; add %s to the receiving nodes", f, n.name)
			}
		}
	}
	return nil
}

// HealLinks heals every part of fault id and verifies its links pass.
func (c *Cluster) HealLinks(ctx context.Context, id string) (string, error) {
	if err := c.KernelNetwork(); err != nil {
		return "", err
	}
	var lines []string
	var errs []error
	healed := 0
	for _, sub := range []string{id, id + "/loss", id + "/delay"} {
		if !c.place.net.Has(sub) {
			continue
		}
		healed++
		r, err := c.place.net.Heal(ctx, sub)
		line, err := c.logFault(sub, "heal", r, err)
		lines = append(lines, line)
		errs = append(errs, err)
	}
	if healed == 0 {
		return "", fmt.Errorf("heal %s: no such fault", id)
	}
	return strings.Join(lines, "; "), errors.Join(errs...)
}

// healAll heals whatever parts of fault id are applied.
func (c *Cluster) healAll(ctx context.Context, id string) error {
	if !c.place.net.Has(id+"/loss") && !c.place.net.Has(id+"/delay") && !c.place.net.Has(id) {
		return nil
	}
	_, err := c.HealLinks(ctx, id)
	return err
}

// logFault logs a fault's measured result and returns it as text.
func (c *Cluster) logFault(id, action string, r kernelnet.Report, err error) (string, error) {
	if err != nil {
		c.log.Error("kernel network fault", "fault", id, "action", action, "err", err)
		if r.Fault == "" {
			return "", err
		}
		return r.String(), err
	}
	c.log.Info("kernel network fault", "fault", id, "action", action, "measured", r.String(), "detail", strings.Join(r.Detail, "; "))
	return r.String(), nil
}
