package faults

import (
	"context"
	"errors"
	"fmt"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// client returns the client of a node by name.
func (s *Schedule) client(name string) (nodeclient.Client, error) {
	for _, n := range s.env.Nodes {
		if n.Name == name {
			return n.Client, nil
		}
	}
	return nil, fmt.Errorf("unknown node %q", name)
}

// peerID names a node the way its peers' fault hooks expect: its peer id
// when the node reports one, else its node name.
func (s *Schedule) peerID(ctx context.Context, name string) string {
	s.mu.Lock()
	id, ok := s.peers[name]
	s.mu.Unlock()
	if ok {
		return id
	}
	id = name
	if c, err := s.client(name); err == nil {
		if ni, err := c.NetworkInfo(ctx); err == nil && ni.PeerID != "" {
			id = ni.PeerID
		}
	}
	s.mu.Lock()
	s.peers[name] = id
	s.mu.Unlock()
	return id
}

// others returns the peer ids of every node not in skip.
func (s *Schedule) others(ctx context.Context, skip map[string]bool) []string {
	var out []string
	for _, n := range s.env.Nodes {
		if !skip[n.Name] {
			out = append(out, s.peerID(ctx, n.Name))
		}
	}
	return out
}

// cuts returns, for a partition or an isolation, which peers each node must
// block: both sides of every cut link, so the cut holds in both directions.
func (s *Schedule) cuts(ctx context.Context, f plan.Fault) map[string][]string {
	side := map[string]int{}
	if f.Kind == plan.FaultPartition {
		for i, g := range f.PartitionGroups() {
			for _, n := range g {
				side[n] = i + 1
			}
		}
	} else {
		for _, n := range f.Targets.Nodes {
			side[n] = -1 // each isolated node on its own side
		}
	}
	out := map[string][]string{}
	for _, a := range s.env.Nodes {
		for _, b := range s.env.Nodes {
			if a.Name == b.Name {
				continue
			}
			sa, sb := side[a.Name], side[b.Name]
			cut := f.Kind == plan.FaultPartition && sa != 0 && sb != 0 && sa != sb ||
				f.Kind == plan.FaultIsolate && (sa == -1 || sb == -1)
			if cut {
				out[a.Name] = append(out[a.Name], s.peerID(ctx, b.Name))
			}
		}
	}
	return out
}

// eachTarget runs fn on every target node and joins the errors.
func (s *Schedule) eachTarget(f plan.Fault, fn func(name string) error) error {
	var errs []error
	for _, n := range f.Targets.Nodes {
		if err := fn(n); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// eachClient runs fn with the client of every target of f (eachTarget).
func (s *Schedule) eachClient(f plan.Fault, fn func(c nodeclient.Client) error) error {
	return s.eachTarget(f, func(n string) error {
		c, err := s.client(n)
		if err != nil {
			return err
		}
		return fn(c)
	})
}

// hooks runs fn with the client of every node in set.
func (s *Schedule) hooks(set map[string][]string, fn func(c nodeclient.Client, peers []string) error) error {
	var errs []error
	for _, n := range s.env.Nodes {
		peers, ok := set[n.Name]
		if !ok {
			continue
		}
		if err := fn(n.Client, peers); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// capability returns the cluster as T or an error naming what is missing.
func capability[T any](c runners.Cluster, what string) (T, error) {
	v, ok := c.(T)
	if !ok {
		return v, fmt.Errorf("the runner cannot %s nodes", what)
	}
	return v, nil
}

// kind is how the engine starts and heals one fault kind. The capability a
// kind needs is a plan fact (plan validation refuses a runner without it);
// here a missing capability is still an error naming it, never a no-op.
type kind struct {
	apply, heal func(s *Schedule, ctx context.Context, f plan.Fault) error
}

// kinds holds every fault kind of the plan language; a test keeps it
// complete.
var kinds = map[plan.FaultKind]kind{
	plan.FaultKill: {
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			return onCluster(s, f, "kill", func(k runners.Killer, n string) error { return k.Kill(ctx, n) })
		},
		heal: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			return onCluster(s, f, "restart killed", func(st runners.StopStarter, n string) error { return st.Start(ctx, n) })
		},
	},
	plan.FaultPause: {
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			return onCluster(s, f, "pause", func(p runners.Pauser, n string) error { return p.Pause(ctx, n) })
		},
		heal: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			return onCluster(s, f, "resume", func(p runners.Pauser, n string) error { return p.Resume(ctx, n) })
		},
	},
	// Network faults go through the kernel where they can (network); the
	// kinds below are their node paths. A runner that isolates nodes itself
	// does; otherwise isolation is a partition of the targets from
	// everyone, through the fault hooks.
	plan.FaultIsolate: network(kind{
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			if iso, ok := s.env.Cluster.(runners.Isolator); ok {
				return s.eachTarget(f, func(n string) error { return iso.Isolate(ctx, n) })
			}
			return s.block(ctx, f)
		},
		heal: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			if iso, ok := s.env.Cluster.(runners.Isolator); ok {
				return s.eachTarget(f, func(n string) error { return iso.Reconnect(ctx, n) })
			}
			return s.unblock(ctx, f)
		},
	}),
	plan.FaultPartition: network(kind{
		apply: (*Schedule).block,
		heal:  (*Schedule).unblock,
	}),
	plan.FaultLatency: network(kind{
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error { return s.linkFault(ctx, f, false) },
		heal:  func(s *Schedule, ctx context.Context, f plan.Fault) error { return s.linkFault(ctx, f, true) },
	}),
	plan.FaultClockSkew: {
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			return s.eachClient(f, func(c nodeclient.Client) error { return c.SetClockOffset(ctx, f.ClockSkew.Offset.Std()) })
		},
		heal: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			return s.eachClient(f, func(c nodeclient.Client) error { return c.SetClockOffset(ctx, 0) })
		},
	},
	plan.FaultBug: {
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error { return s.bug(ctx, f, true) },
		heal:  func(s *Schedule, ctx context.Context, f plan.Fault) error { return s.bug(ctx, f, false) },
	},
}

// onCluster runs fn on every target with the cluster as T, or fails naming
// what the runner cannot do.
func onCluster[T any](s *Schedule, f plan.Fault, what string, fn func(T, string) error) error {
	c, err := capability[T](s.env.Cluster, what)
	if err != nil {
		return err
	}
	return s.eachTarget(f, func(n string) error { return fn(c, n) })
}

// apply starts fault f.
func (s *Schedule) apply(ctx context.Context, f plan.Fault) error {
	k, err := kindOf(f)
	if err != nil {
		return err
	}
	return k.apply(s, ctx, f)
}

// heal undoes fault f.
func (s *Schedule) heal(ctx context.Context, f plan.Fault) error {
	k, err := kindOf(f)
	if err != nil {
		return err
	}
	return k.heal(s, ctx, f)
}

// kindOf returns how to apply and heal f, after checking that f carries the
// parameters of its kind (plan validation does too; an unvalidated plan
// fails here rather than in the middle of a kind's code).
func kindOf(f plan.Fault) (kind, error) {
	k, ok := kinds[f.Kind]
	if !ok {
		return kind{}, fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if errs := f.CheckParams(); len(errs) > 0 {
		return kind{}, errors.Join(errs...)
	}
	return k, nil
}

// block cuts the fault's links through the nodes' fault hooks.
func (s *Schedule) block(ctx context.Context, f plan.Fault) error {
	return s.hooks(s.cuts(ctx, f), func(c nodeclient.Client, peers []string) error { return c.BlockPeers(ctx, peers) })
}

// unblock restores the links block cut.
func (s *Schedule) unblock(ctx context.Context, f plan.Fault) error {
	return s.hooks(s.cuts(ctx, f), func(c nodeclient.Client, peers []string) error { return c.UnblockPeers(ctx, peers) })
}

// linkFault shapes (or, with heal, restores) the links of every target to
// every other node.
func (s *Schedule) linkFault(ctx context.Context, f plan.Fault, heal bool) error {
	return s.eachTarget(f, func(n string) error {
		c, err := s.client(n)
		if err != nil {
			return err
		}
		lf := nodeapi.LinkFault{Peers: s.others(ctx, map[string]bool{n: true})}
		if !heal {
			l := f.Latency
			lf.DelayMS, lf.JitterMS, lf.Loss = l.Delay.Std().Milliseconds(), l.Jitter.Std().Milliseconds(), l.Loss
		}
		return c.SetLinkFault(ctx, lf)
	})
}

// bug switches the fault's bug on or off on every target.
func (s *Schedule) bug(ctx context.Context, f plan.Fault, on bool) error {
	return s.eachClient(f, func(c nodeclient.Client) error { return c.SetBugs(ctx, map[string]bool{f.Bug.Name: on}) })
}
