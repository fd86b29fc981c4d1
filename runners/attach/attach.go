// Package attach is the runner that deploys nothing: it drives a network
// that already runs (a cluster `nomosrun up` keeps up, or a devnet whose
// endpoints a user wrote down), running the scenario's workloads, faults
// through the nodes' testing API, and expectations against it, and leaves
// it as it found it. When the endpoints file names each node's Docker
// container (nomosrun up on the compose runner writes them), an attached
// run also restarts, kills, stops and pauses nodes and reads their logs,
// through the engine.
package attach

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
)

// Name is the runner's name as given to --runner.
const Name = "attach"

func init() {
	runners.Register(runners.Info{
		Name: Name, Doc: "a network that already runs (" + env.AttachEndpoints.Name + ")",
		// Faults that go through the nodes' testing API work on any node
		// that has one; node control (restart, kill, pause), logs and kernel
		// faults need the machinery that started the nodes, which an
		// attached run does not have.
		Caps:     hookCaps(),
		CapsHere: capsHere,
		New:      func() (runners.Runner, error) { return New(Options{}) },
	})
}

// hookCaps are the faults that go through the nodes' testing API.
func hookCaps() plan.Capabilities {
	return plan.NewCapabilities(plan.CapIsolate, plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapDA)
}

// capsHere adds node control and logs when the endpoints file at hand
// names every node's container. A file that cannot be read leaves the
// hook faults: Deploy says what is wrong with it.
func capsHere() plan.Capabilities {
	caps := hookCaps()
	if ep, err := Read(env.AttachEndpoints.Get()); err == nil && ep.Controlled() {
		for _, c := range []plan.Capability{plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapLogs} {
			caps[c] = true
		}
	}
	return caps
}

// Options configure the attach runner.
type Options struct {
	// Endpoints is the endpoints file, or the run directory holding it.
	// Default: NOMOS_ATTACH_ENDPOINTS.
	Endpoints string
}

// Runner attaches to a running network.
type Runner struct{ opts Options }

var _ runners.Runner = (*Runner)(nil)

// New returns an attach runner; the file is read by Deploy.
func New(opts Options) (*Runner, error) {
	if opts.Endpoints == "" {
		opts.Endpoints = env.AttachEndpoints.Get()
	}
	return &Runner{opts: opts}, nil
}

// Name returns "attach".
func (r *Runner) Name() string { return Name }

// Deploy reads the endpoints and checks they are the plan's topology: the
// same node names and roles, a testing API on every node when a fault needs
// one. Nothing is started.
func (r *Runner) Deploy(ctx context.Context, spec runners.DeploySpec) (runners.Cluster, error) {
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	if r.opts.Endpoints == "" {
		return nil, fmt.Errorf("attach: no network to attach to: set %s to the endpoints.json of a running network "+
			"(nomosrun up writes one in its run directory) or to that directory", env.AttachEndpoints.Name)
	}
	ep, err := Read(r.opts.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	c, err := match(spec.Plan, ep)
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", r.opts.Endpoints, err)
	}
	if ep.Controlled() {
		if c.docker, err = newDocker(ctx); err != nil {
			return nil, fmt.Errorf("attach to %s: its nodes' containers: %w", r.opts.Endpoints, err)
		}
	}
	if spec.Logger != nil {
		spec.Logger.Info("attached", "endpoints", r.opts.Endpoints, "nodes", len(c.nodes))
	}
	return c, nil
}

// match pairs the plan's nodes with the file's, by name and role.
func match(p *plan.Plan, ep *Endpoints) (*Cluster, error) {
	byName := map[string]Node{}
	var names []string
	for _, n := range ep.Nodes {
		byName[n.Name] = n
		names = append(names, n.Name)
	}
	var errs []error
	if ep.Kind != p.Topology.Node {
		errs = append(errs, fmt.Errorf("the network runs %s nodes and the scenario %s nodes: set topology(node=%q)",
			kindName(ep.Kind), kindName(p.Topology.Node), kindName(ep.Kind)))
	}
	c := &Cluster{}
	for _, pn := range p.Topology.Nodes {
		n, ok := byName[pn.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("the scenario's %s is not in the file (it lists %s)", pn.Name, strings.Join(names, ", ")))
			continue
		case n.Role != string(pn.Role):
			errs = append(errs, fmt.Errorf("%s is a %s in the file and a %s in the scenario", pn.Name, n.Role, pn.Role))
		case n.API == "":
			errs = append(errs, fmt.Errorf("%s has no api URL", pn.Name))
		}
		c.nodes = append(c.nodes, &node{n, pn.Role})
		delete(byName, pn.Name)
	}
	for name := range byName {
		errs = append(errs, fmt.Errorf("the file's %s is not in the scenario's topology", name))
	}
	if len(p.Faults) > 0 && !ep.Controlled() {
		for _, n := range c.nodes {
			if n.Node.TestingAPI == "" {
				errs = append(errs, fmt.Errorf("the scenario's faults go through the nodes' testing API, and %s has no testing_api URL", n.Node.Name))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w\n(the scenario's topology must be the attached network's: same node names and roles)", err)
	}
	return c, nil
}

// kindName is a node kind's name, "" being the reference node.
func kindName(k string) string {
	if k == "" {
		return nodekind.Default
	}
	return k
}

// Cluster is the attached network.
type Cluster struct {
	nodes  []*node
	docker *docker // nil: the endpoints name no containers
}

var _ runners.Cluster = (*Cluster)(nil)

// Nodes returns the nodes in the plan's order.
func (c *Cluster) Nodes() []runners.Node {
	out := make([]runners.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// Teardown leaves the network running: it was never ours. A node an
// attached run stopped or paused stays as the run's faults left it; the
// engine heals every fault before teardown.
func (c *Cluster) Teardown(context.Context) error {
	if c.docker != nil {
		return c.docker.Close()
	}
	return nil
}

type node struct {
	Node
	role plan.Role
}

func (n *node) Name() string       { return n.Node.Name }
func (n *node) Role() plan.Role    { return n.role }
func (n *node) API() string        { return n.Node.API }
func (n *node) TestingAPI() string { return n.Node.TestingAPI }
