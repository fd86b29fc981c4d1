package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
)

// applied is how a network fault was applied: in the kernel (the ids the
// runner knows its parts by) or by the nodes' testing API, and what the
// kernel path measured.
type applied struct {
	via      plan.Via
	parts    []string       // kernel fault ids, healed together
	measured string         // the runner's verification, or why the node's hooks were used
	peers    map[string]int // each node's peer count before a kernel cut
}

// network wraps the node-hook apply and heal of a network fault kind with
// the kernel path: via="kernel" demands it, via="node" refuses it, and by
// default the kernel applies the fault when the cluster's network takes
// kernel faults.
func network(node kind) kind {
	return kind{
		apply: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			nf, why := s.kernel(f)
			if nf != nil {
				peers := s.peerCounts(ctx, f)
				a, err := s.kernelApply(ctx, nf, f)
				switch {
				case err == nil:
					a.peers = peers
					s.setApplied(f.ID, a)
					return nil
				case f.Via == plan.ViaAuto && errors.Is(err, runners.ErrKernelLacks):
					why = err.Error()
				default:
					return err
				}
			}
			if f.Via == plan.ViaKernel {
				return fmt.Errorf("via=\"kernel\": %s", why)
			}
			s.setApplied(f.ID, applied{via: plan.ViaNode, measured: "by the nodes' testing API: " + why})
			err := node.apply(s, ctx, f)
			if errors.Is(err, nodeclient.ErrNoFaultHooks) {
				// Nothing was applied, so there is nothing to heal: one
				// message for the fault rather than one per node.
				s.dropApplied(f.ID)
				return fmt.Errorf("the nodes have no fault hooks, and the kernel cannot apply this %s here: %s", f.Kind, why)
			}
			return err
		},
		heal: func(s *Schedule, ctx context.Context, f plan.Fault) error {
			a := s.takeApplied(f.ID)
			if a.via == plan.ViaAuto { // never applied
				return nil
			}
			if a.via != plan.ViaKernel {
				return node.heal(s, ctx, f)
			}
			nf := s.env.Cluster.(runners.NetFaulter)
			var lines []string
			var errs []error
			for _, id := range a.parts {
				line, err := nf.HealLinks(ctx, id)
				lines, errs = append(lines, line), append(errs, err)
			}
			err := errors.Join(errs...)
			if err == nil && a.peers != nil {
				lines = append(lines, s.peersBack(ctx, a.peers))
			}
			s.setHealed(f.ID, strings.Join(lines, "; "))
			return err
		},
	}
}

// kernel returns the cluster's kernel fault interface when f is to be
// applied there, or why not.
func (s *Schedule) kernel(f plan.Fault) (runners.NetFaulter, string) {
	if f.Via == plan.ViaNode {
		return nil, "the scenario asked for them (via=\"node\")"
	}
	nf, ok := s.env.Cluster.(runners.NetFaulter)
	if !ok {
		return nil, "the runner cannot apply network faults in the kernel"
	}
	if err := nf.KernelNetwork(); err != nil {
		return nil, err.Error()
	}
	return nf, ""
}

// kernelApply applies f in the kernel, as one or more runner faults, and
// returns their ids and measurements. A part that fails takes the applied
// ones with it.
func (s *Schedule) kernelApply(ctx context.Context, nf runners.NetFaulter, f plan.Fault) (applied, error) {
	a := applied{via: plan.ViaKernel}
	var lines []string
	add := func(id, line string, err error) error {
		if err != nil {
			for _, p := range a.parts {
				_, herr := nf.HealLinks(ctx, p)
				err = errors.Join(err, herr)
			}
			return err
		}
		a.parts, lines = append(a.parts, id), append(lines, line)
		return nil
	}
	all := s.nodeNames()
	switch f.Kind {
	case plan.FaultPartition:
		groups := f.PartitionGroups()
		for i := range groups {
			for j := i + 1; j < len(groups); j++ {
				id := fmt.Sprintf("%s-%d-%d", f.ID, i+1, j+1)
				line, err := nf.CutLinks(ctx, id, groups[i], groups[j])
				if err := add(id, line, err); err != nil {
					return a, err
				}
			}
		}
	case plan.FaultIsolate:
		for _, t := range f.Targets.Nodes {
			id := f.ID + "-" + t
			line, err := nf.CutLinks(ctx, id, []string{t}, without(all, t))
			if err := add(id, line, err); err != nil {
				return a, err
			}
		}
	case plan.FaultLatency:
		l := f.Latency
		line, err := nf.ImpairLinks(ctx, f.ID, f.Targets.Nodes, all,
			runners.Impairment{Delay: l.Delay.Std(), Jitter: l.Jitter.Std(), Loss: l.Loss})
		if err := add(f.ID, line, err); err != nil {
			return a, err
		}
	default:
		return a, fmt.Errorf("%s is not a network fault", f.Kind)
	}
	a.measured = "in the kernel: " + strings.Join(lines, "; ")
	return a, nil
}

func (s *Schedule) nodeNames() []string {
	out := make([]string, len(s.env.Nodes))
	for i, n := range s.env.Nodes {
		out[i] = n.Name
	}
	return out
}

func without(names []string, skip string) []string {
	var out []string
	for _, n := range names {
		if n != skip {
			out = append(out, n)
		}
	}
	return out
}

func (s *Schedule) setApplied(id string, a applied) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.net[id] = &a
}

// takeApplied returns how fault id was applied and forgets it.
// dropApplied forgets fault id, which was not applied after all.
func (s *Schedule) dropApplied(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.net, id)
}

func (s *Schedule) takeApplied(id string) applied {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.net[id]
	if a == nil {
		return applied{}
	}
	delete(s.net, id)
	s.healed[id] = applied{via: a.via}
	return *a
}

// setHealed records what healing a kernel fault measured.
func (s *Schedule) setHealed(id, measured string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.healed[id] = applied{via: plan.ViaKernel, measured: measured}
}

// mechanism returns, for the event of fault id, how it was applied and
// what was measured (empty for faults that are not network faults).
func (s *Schedule) mechanism(id string, ph Phase) (plan.Via, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ph == Healed {
		h := s.healed[id]
		delete(s.healed, id)
		return h.via, h.measured
	}
	if a := s.net[id]; a != nil {
		return a.via, a.measured
	}
	return "", ""
}
