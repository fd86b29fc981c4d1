// Package kernelfaults turns a kernelnet.Network into the runners'
// NetFaulter, for every runner whose nodes have network namespaces
// nomosrun can reach: the host runner's own, containers', pods'.
package kernelfaults

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"

	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Faulter applies a runner's network faults to a kernelnet.Network. A
// cluster embeds one and sets Net once its network exists.
type Faulter struct {
	// Net is the cluster's network; nil when it takes no kernel faults,
	// for the reason Why gives.
	Net *kernelnet.Network
	// Why says why Net is nil.
	Why error
	// Nodes are every node's names: a delay must cover what a node sends
	// to all of them.
	Nodes []string
	// Log receives each fault's measurements.
	Log *slog.Logger
}

var _ runners.NetFaulter = (*Faulter)(nil)

// KernelNetwork reports why the cluster takes no kernel faults, or nil.
func (f *Faulter) KernelNetwork() error {
	if f.Net == nil {
		if f.Why == nil {
			return errors.New("the cluster has no kernel network")
		}
		return f.Why
	}
	return nil
}

// Leave tells the network that a node's namespace is gone (its container
// or pod stopped), so faults leave it out until it rejoins; without a kernel
// network it does nothing.
func (f *Faulter) Leave(node string) {
	if f.Net != nil {
		_ = f.Net.Leave(node) // the cluster names its own nodes
	}
}

// CutLinks drops all traffic between the two sides in the kernel and
// verifies every cross link drops a connection attempt.
func (f *Faulter) CutLinks(ctx context.Context, id string, a, b []string) (string, error) {
	if err := f.KernelNetwork(); err != nil {
		return "", err
	}
	r, err := f.Net.Cut(ctx, id, a, b)
	return f.logFault(id, "cut", r, err)
}

// ImpairLinks drops a share of what from sends to to (nftables, in whole
// percent), and delays everything the from nodes send (netem on their
// interface, so to must be every other node when a delay is asked).
// Sub-faults id/loss and id/delay heal together with HealLinks(id).
func (f *Faulter) ImpairLinks(ctx context.Context, id string, from, to []string, imp runners.Impairment) (string, error) {
	if err := f.KernelNetwork(); err != nil {
		return "", err
	}
	if err := f.checkImpairment(from, to, imp); err != nil {
		return "", fmt.Errorf("impair %s: %w", id, err)
	}
	var lines []string
	if imp.Loss > 0 {
		r, err := f.Net.Loss(ctx, id+"/loss", from, to, int(math.Round(imp.Loss*100)))
		line, err := f.logFault(id, "loss", r, err)
		if err != nil {
			return line, err
		}
		lines = append(lines, line)
	}
	if imp.Delay > 0 {
		r, err := f.Net.Delay(ctx, id+"/delay", from, imp.Delay, imp.Jitter)
		if errors.Is(err, kernelnet.ErrNoNetem) {
			err = fmt.Errorf("%w: %w", runners.ErrKernelLacks, err)
		}
		line, err := f.logFault(id, "delay", r, err)
		if err != nil {
			// All or nothing: a failed delay takes the loss part with it.
			return line, errors.Join(err, f.healAll(ctx, id))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "; "), nil
}

// checkImpairment rejects what the kernel path cannot do exactly.
func (f *Faulter) checkImpairment(from, to []string, imp runners.Impairment) error {
	if imp.Loss < 0 || imp.Loss > 1 || imp.Delay < 0 || imp.Jitter < 0 {
		return fmt.Errorf("%+v: want loss from 0 to 1 and no negative duration", imp)
	}
	if imp.Delay == 0 {
		return nil
	}
	for _, a := range from {
		for _, n := range f.Nodes {
			if n != a && !slices.Contains(to, n) {
				return fmt.Errorf("a delay applies to everything %s sends; add %s to the receiving nodes", a, n)
			}
		}
	}
	return nil
}

// HealLinks heals every part of fault id and verifies its links pass.
func (f *Faulter) HealLinks(ctx context.Context, id string) (string, error) {
	if err := f.KernelNetwork(); err != nil {
		return "", err
	}
	var lines []string
	var errs []error
	healed := 0
	for _, sub := range []string{id, id + "/loss", id + "/delay"} {
		if !f.Net.Has(sub) {
			continue
		}
		healed++
		r, err := f.Net.Heal(ctx, sub)
		line, err := f.logFault(sub, "heal", r, err)
		lines = append(lines, line)
		errs = append(errs, err)
	}
	if healed == 0 {
		return "", fmt.Errorf("heal %s: no such fault", id)
	}
	return strings.Join(lines, "; "), errors.Join(errs...)
}

// healAll heals whatever parts of fault id are applied.
func (f *Faulter) healAll(ctx context.Context, id string) error {
	if !f.Net.Has(id+"/loss") && !f.Net.Has(id+"/delay") && !f.Net.Has(id) {
		return nil
	}
	_, err := f.HealLinks(ctx, id)
	return err
}

// logFault logs a fault's measured result and returns it as text.
func (f *Faulter) logFault(id, action string, r kernelnet.Report, err error) (string, error) {
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err != nil {
		log.Error("kernel network fault", "fault", id, "action", action, "err", err)
		if r.Fault == "" {
			return "", err
		}
		return r.String(), err
	}
	log.Info("kernel network fault", "fault", id, "action", action, "measured", r.String(), "detail", strings.Join(r.Detail, "; "))
	return r.String(), nil
}
