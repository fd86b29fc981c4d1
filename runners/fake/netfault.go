package fake

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/runners"
)

var _ runners.NetFaulter = (*Cluster)(nil)

// KernelNetwork implements runners.NetFaulter: a fake cluster takes kernel
// faults when Options.KernelNetwork says so.
func (c *Cluster) KernelNetwork() error {
	c.mu.Lock()
	on := c.opts.KernelNetwork
	c.mu.Unlock()
	if !on {
		return errors.New("the fake cluster's network takes no kernel faults (fake.Options.KernelNetwork)")
	}
	return nil
}

// CutLinks implements runners.NetFaulter: the nodes of each side block
// those of the other, as the nodes' own hooks would, and the call is
// recorded as kernel_cut.
func (c *Cluster) CutLinks(_ context.Context, id string, a, b []string) (string, error) {
	if err := c.KernelNetwork(); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance()
	c.record("", "kernel_cut", fmt.Sprintf("%s %s|%s", id, strings.Join(a, ","), strings.Join(b, ",")))
	if c.cuts == nil {
		c.cuts = map[string][2][]string{}
	}
	if _, dup := c.cuts[id]; dup {
		return "", fmt.Errorf("fault %s is already applied", id)
	}
	c.cuts[id] = [2][]string{a, b}
	c.setCut(a, b, true)
	return fmt.Sprintf("%s: %d/%d links cut", id, len(a)*len(b), len(a)*len(b)), nil
}

// ImpairLinks implements runners.NetFaulter: it is only recorded, as
// kernel_impair; the fake chain does not slow down.
func (c *Cluster) ImpairLinks(_ context.Context, id string, from, to []string, imp runners.Impairment) (string, error) {
	if err := c.KernelNetwork(); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("", "kernel_impair", fmt.Sprintf("%s %s->%s delay=%s loss=%g", id, strings.Join(from, ","), strings.Join(to, ","), imp.Delay, imp.Loss))
	if c.cuts == nil {
		c.cuts = map[string][2][]string{}
	}
	c.cuts[id] = [2][]string{}
	return id + ": impaired", nil
}

// HealLinks implements runners.NetFaulter.
func (c *Cluster) HealLinks(_ context.Context, id string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sides, ok := c.cuts[id]
	if !ok {
		return "", fmt.Errorf("heal %s: no such fault", id)
	}
	delete(c.cuts, id)
	c.record("", "kernel_heal", id)
	c.setCut(sides[0], sides[1], false)
	return id + ": healed", nil
}

// setCut (with c.mu held) blocks or unblocks every link between a and b.
func (c *Cluster) setCut(a, b []string, cut bool) {
	link := func(from, to string) {
		n := c.byName[from]
		if n == nil {
			return
		}
		if n.blocked == nil {
			n.blocked = map[string]bool{}
		}
		if cut {
			n.freeze()
			n.blocked["peer-"+to] = true
		} else {
			delete(n.blocked, "peer-"+to)
		}
	}
	for _, x := range a {
		for _, y := range b {
			link(x, y)
			link(y, x)
		}
	}
}

// SetKernelNetwork switches kernel network faults on or off for this
// cluster, as Options.KernelNetwork does for new ones.
func (c *Cluster) SetKernelNetwork(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.KernelNetwork = on
}
