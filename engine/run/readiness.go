package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// Readiness defaults.
const (
	defaultReadinessTimeout = 60 * time.Second
	defaultReadinessPoll    = 200 * time.Millisecond
)

// ExpectedPeers returns each node's peer count under the topology's
// network layout: the symmetric closure of its initial-peer links (star:
// every node links to node 0; chain: node i to node i-1; full: all pairs).
func ExpectedPeers(t plan.Topology) map[string]int {
	out := make(map[string]int, len(t.Nodes))
	for _, nd := range t.Nodes {
		out[nd.Name] = 0
	}
	for i := range t.Nodes {
		for _, j := range t.Dials(i) {
			out[t.Nodes[i].Name]++
			out[t.Nodes[j].Name]++
		}
	}
	return out
}

// check is one readiness condition over every node: probe returns nil when
// a node is ready, or a diagnostic ("peers=0, expected=2").
type check struct {
	name  string
	probe func(ctx context.Context, n nodeclient.Node) error
}

// readiness polls every check in order until each passes on every node.
func (x *execution) readiness(ctx context.Context) error {
	timeout := x.opts.ReadinessTimeout
	if timeout <= 0 {
		timeout = defaultReadinessTimeout
	}
	timeout = env.ScaledBy(x.getenv(env.SlowTest.Name), timeout)
	poll := x.opts.ReadinessPoll
	if poll <= 0 {
		poll = defaultReadinessPoll
	}
	checks := []check{{"HTTP", func(ctx context.Context, n nodeclient.Node) error {
		_, err := n.Client.Info(ctx)
		return err
	}}}
	expected := ExpectedPeers(x.plan.Topology)
	if len(x.nodes) > 1 {
		checks = append(checks, check{"network", func(ctx context.Context, n nodeclient.Node) error {
			ni, err := n.Client.NetworkInfo(ctx)
			if err != nil {
				return fmt.Errorf("error=%v, expected_peers=%d", err, expected[n.Name])
			}
			if ni.NPeers < expected[n.Name] {
				return fmt.Errorf("peers=%d, expected=%d", ni.NPeers, expected[n.Name])
			}
			return nil
		}})
	}
	// The run window judges a producing network: a node still in its
	// initial sync (Bootstrapping) proposes nothing yet.
	checks = append(checks, check{"consensus", func(ctx context.Context, n nodeclient.Node) error {
		info, err := n.Client.Info(ctx)
		if err != nil {
			return fmt.Errorf("error=%v", err)
		}
		if info.Mode != nodeapi.ModeOnline {
			return fmt.Errorf("mode=%s, want %s", info.Mode, nodeapi.ModeOnline)
		}
		return nil
	}})
	if x.hasDA() {
		checks = append(checks, check{"DA membership", func(ctx context.Context, n nodeclient.Node) error {
			m, err := n.Client.DAMembership(ctx, 0)
			if err != nil {
				return fmt.Errorf("error=%v", err)
			}
			if len(m.Assignations) == 0 {
				return fmt.Errorf("empty assignations for session 0")
			}
			return nil
		}})
	}
	for _, c := range checks {
		if err := x.waitCheck(ctx, c, timeout, poll); err != nil {
			return err
		}
	}
	return nil
}

func (x *execution) hasDA() bool {
	for _, w := range x.plan.Workloads {
		if w.Kind == plan.WorkloadDA {
			return true
		}
	}
	return false
}

// waitCheck polls c until every node passes; on timeout it names every
// node that is not ready with its last diagnostic.
func (x *execution) waitCheck(ctx context.Context, c check, timeout, poll time.Duration) error {
	deadline := time.Now().Add(timeout)
	pending := map[string]error{}
	for _, n := range x.nodes {
		pending[n.Name] = fmt.Errorf("not probed")
	}
	for {
		for _, n := range x.nodes {
			if _, ok := pending[n.Name]; !ok {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, max(poll, time.Second))
			err := c.probe(pctx, n)
			cancel()
			if err == nil {
				delete(pending, n.Name)
			} else {
				pending[n.Name] = err
			}
		}
		if len(pending) == 0 {
			x.log.Info("ready", "check", c.name)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !time.Now().Before(deadline) {
			var lines []string
			for _, n := range x.nodes {
				if err, ok := pending[n.Name]; ok {
					lines = append(lines, fmt.Sprintf("  %s: %v", n.Name, err))
				}
			}
			return fmt.Errorf("timed out waiting for %s readiness after %s:\n%s", c.name, timeout, strings.Join(lines, "\n"))
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
