// Package fake is an in-memory runner for engine tests. Its nodes share one
// simulated chain that grows one block per block interval of the plan,
// measured with the time package (so testing/synctest drives it), include the
// transactions submitted to any node, and obey node controls and fault hooks:
// a node that is down, paused or cut off freezes at its height and catches up
// when healed. Every call is recorded.
package fake

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
)

// Name is the runner's name.
const Name = "fake"

// Options shape the fake runner's behaviour.
type Options struct {
	// Caps are the announced capabilities; nil means all of them.
	Caps plan.Capabilities
	// DeployErr makes Deploy fail with this error.
	DeployErr error
	// Unready names nodes whose API never answers.
	Unready map[string]bool
	// Bootstrapping names nodes that answer but never turn Online.
	Bootstrapping map[string]bool
	// Peers overrides the peer count a node reports.
	Peers map[string]int
	// NoMembership makes DA membership stay empty.
	NoMembership bool
	// RestartErr makes Restart fail with this error.
	RestartErr error
	// KernelNetwork makes the clusters take kernel network faults
	// (runners.NetFaulter); without it they refuse them.
	KernelNetwork bool
}

// Runner deploys fake clusters.
type Runner struct {
	opts Options

	mu       sync.Mutex
	clusters []*Cluster
}

// New returns a fake runner.
func New(opts Options) *Runner { return &Runner{opts: opts} }

var _ runners.Runner = (*Runner)(nil)

// Name implements runners.Runner.
func (r *Runner) Name() string { return Name }

// Capabilities returns what the fake clusters announce: Options.Caps, or
// every capability. The fake runner is not registered (it is no --runner
// choice); engine tests validate their plans against this set.
func (r *Runner) Capabilities() plan.Capabilities {
	if r.opts.Caps != nil {
		return r.opts.Caps
	}
	return plan.NewCapabilities(plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapIsolate, plan.CapKernelNetwork,
		plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapLogs, plan.CapDA)
}

// Deploy implements runners.Runner.
func (r *Runner) Deploy(ctx context.Context, spec runners.DeploySpec) (runners.Cluster, error) {
	if r.opts.DeployErr != nil {
		return nil, r.opts.DeployErr
	}
	if spec.Plan == nil {
		return nil, errors.New("fake: deploy needs a plan")
	}
	c := newCluster(spec.Plan, r.opts)
	r.mu.Lock()
	r.clusters = append(r.clusters, c)
	r.mu.Unlock()
	return c, nil
}

// Last returns the most recently deployed cluster (nil before any deploy).
func (r *Runner) Last() *Cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.clusters) == 0 {
		return nil
	}
	return r.clusters[len(r.clusters)-1]
}

// ClientFactory builds the node client of a fake node; engine tests pass it
// as the run's client factory.
func ClientFactory(n runners.Node) (nodeclient.Client, error) {
	fn, ok := n.(*Node)
	if !ok {
		return nil, fmt.Errorf("fake: %s is not a fake node", n.Name())
	}
	return fn, nil
}

// Call is one recorded call on the cluster or a node.
type Call struct {
	Node string
	Op   string
	Arg  string
}

// String formats the call as "node op arg".
func (c Call) String() string {
	s := c.Op
	if c.Node != "" {
		s = c.Node + " " + s
	}
	if c.Arg != "" {
		s += " " + c.Arg
	}
	return s
}

// errDown is what a node that does not run answers.
var errDown = errors.New("connection refused")
