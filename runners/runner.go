// Package runners defines what a backend must do to run a plan: deploy a
// topology, hand back its nodes, and tear it down. Optional node control and
// network faults are separate small interfaces, found by type assertion and
// announced in the runner's registration (Info.Caps) so plans are checked
// before anything starts.
package runners

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// Runner deploys clusters on one backend (host processes, Compose, Kubernetes).
type Runner interface {
	// Name is the runner's name as given to --runner.
	Name() string
	// Deploy starts every node of the plan's topology and returns once the
	// processes, containers or pods exist. Readiness is the engine's job.
	Deploy(ctx context.Context, spec DeploySpec) (Cluster, error)
}

// DeploySpec is everything a runner needs to deploy a plan.
type DeploySpec struct {
	// Plan is the validated plan; runners read its Topology, Wallets and Seed.
	Plan *plan.Plan
	// RunDir is this run's directory for configs, data and logs.
	RunDir string
	// ChainStart is the genesis time every node's slot clock counts from.
	ChainStart time.Time
	// Logger receives the runner's progress.
	Logger *slog.Logger
}

// Check reports what a deploy spec lacks before anything is created.
func (s DeploySpec) Check() error {
	switch {
	case s.Plan == nil:
		return errors.New("no plan")
	case s.RunDir == "":
		return errors.New("no run directory")
	case len(s.Plan.Topology.Nodes) == 0:
		return errors.New("the topology has no nodes")
	}
	return nil
}

// Cluster is a deployed topology.
type Cluster interface {
	// Nodes returns the nodes in topology order.
	Nodes() []Node
	// Teardown stops every node and removes what the runner created. It is
	// safe to call more than once and must be called on every exit path.
	Teardown(ctx context.Context) error
}

// Node is one deployed node and how to reach it.
type Node interface {
	// Name is the plan's node name (validator-0, executor-1, ...).
	Name() string
	// Role is the node's role.
	Role() plan.Role
	// API is the base URL of the node's main HTTP API, reachable from nomosrun.
	API() string
	// TestingAPI is the base URL of the node's testing HTTP API (fault hooks).
	TestingAPI() string
}

// ContainerNode is a node that runs in a container of this machine's Docker
// engine (the compose runner's); nomosrun up names the container in the
// endpoints file, so an attached run can control the node.
type ContainerNode interface {
	// Container is the container's name.
	Container() string
}

// Restarter restarts a node: a graceful stop, then a start with the same
// config and data.
type Restarter interface {
	Restart(ctx context.Context, node string) error
}

// Killer crashes a node without a graceful shutdown (SIGKILL-style). A killed
// node is brought back with StopStarter.Start.
type Killer interface {
	Kill(ctx context.Context, node string) error
}

// StopStarter stops a node gracefully and starts it again later with the
// same config and data.
type StopStarter interface {
	Stop(ctx context.Context, node string) error
	Start(ctx context.Context, node string) error
}

// Pauser freezes a node's processes and resumes them.
type Pauser interface {
	Pause(ctx context.Context, node string) error
	Resume(ctx context.Context, node string) error
}

// Isolator cuts a node off from every peer at the network level of the
// backend and reconnects it. Runners without it isolate through the node's
// fault hooks.
type Isolator interface {
	Isolate(ctx context.Context, node string) error
	Reconnect(ctx context.Context, node string) error
}

// LogCollector copies every node's logs into dir (one file per node).
type LogCollector interface {
	CollectLogs(ctx context.Context, dir string) error
}

// NetFaulter applies network faults in the kernel, outside the node
// processes, and proves each one by measurement before returning. Faults
// are keyed by an id chosen by the caller, so overlapping faults coexist
// and each heals on its own. Every method returns what its probes measured,
// as one line for the report (for example "p1: 8/8 links cut, verified in
// 310ms"); a fault the probes cannot confirm is an error that carries the
// same measurements.
type NetFaulter interface {
	// KernelNetwork reports whether this cluster's network takes kernel
	// faults: nil, or an error saying why not (for example a host cluster
	// deployed on loopback).
	KernelNetwork() error
	// CutLinks drops every packet between each node of a and each node of
	// b, both ways. Isolating a node is a cut between it and all others.
	CutLinks(ctx context.Context, id string, a, b []string) (string, error)
	// ImpairLinks slows or thins what each node of from sends to each node
	// of to (one direction; call again with the sides swapped for both).
	ImpairLinks(ctx context.Context, id string, from, to []string, imp Impairment) (string, error)
	// HealLinks removes fault id and checks that its links pass again.
	HealLinks(ctx context.Context, id string) (string, error)
}

// ErrKernelLacks marks a network fault the machine's kernel cannot apply
// (a qdisc it was built without): where the scenario left the mechanism to
// nomosrun, the fault goes through the node's testing API instead, and the
// report says why.
var ErrKernelLacks = errors.New("the kernel cannot apply this fault")

// Impairment is what ImpairLinks does to each packet. The zero value does
// nothing.
type Impairment struct {
	// Delay holds every packet back this long, spread by ±Jitter.
	Delay, Jitter time.Duration
	// Loss is the share of packets dropped at random, from 0 to 1.
	Loss float64
}
