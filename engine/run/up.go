package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/runners"
)

// Deployment is a cluster brought up by Up: deployed and ready, with no
// workload, fault or expectation driven. The caller owns it and must call
// Teardown.
type Deployment struct {
	// Cluster is the deployed cluster.
	Cluster runners.Cluster
	// Nodes are the cluster's nodes in topology order.
	Nodes []runners.Node
	// RunDir is the run directory (configs, data, logs).
	RunDir string
	// Started is when the deploy began.
	Started time.Time

	x *execution
}

// Up deploys the topology of plan p on runner r and waits until every node
// passes the same readiness checks as Execute (HTTP, peers, DA membership
// when the plan disperses data). Workloads, faults and expectations of the
// plan are ignored. opts.RunDir is required, since the cluster outlives
// this call; Clients, Observer (phase events only), Logger, the readiness
// settings, TeardownTimeout and Getenv are honoured. On error nothing is
// left running and the error is an *Error (its Kind says what failed).
func Up(ctx context.Context, p *plan.Plan, r runners.Runner, opts Options) (*Deployment, error) {
	if p == nil || r == nil {
		return nil, &Error{Phase: PhasePrepare, Kind: KindInvalid, Err: errors.New("up needs a plan and a runner")}
	}
	if opts.RunDir == "" {
		return nil, &Error{Phase: PhasePrepare, Kind: KindInvalid, Err: errors.New("up needs a run directory")}
	}
	x := &execution{plan: p, runner: r, opts: opts, log: opts.Logger, start: time.Now(), faults: map[string]int{}, hookTxs: newHookTxs()}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	// phase() records into a result; Up keeps one only for that.
	x.res = &report.Result{Scenario: p.Scenario, Seed: p.Seed, Runner: r.Name(), Started: x.start}
	runDir, _, err := x.runDir()
	if err != nil {
		return nil, &Error{Phase: PhasePrepare, Kind: KindInfrastructure, Err: err}
	}

	d, upErr := x.bringUp(ctx, runDir)
	if upErr != nil {
		if d != nil {
			if terr := d.Teardown(ctx); terr != nil {
				upErr.Err = errors.Join(upErr.Err, terr)
			}
		}
		return nil, upErr
	}
	return d, nil
}

// bringUp deploys the plan's topology, connects a client to every node and
// waits until they pass the readiness checks: the start Execute and Up
// share. The Deployment is non-nil once the runner deployed, also with an
// error, and the caller tears it down.
func (x *execution) bringUp(ctx context.Context, runDir string) (*Deployment, *Error) {
	x.phase(PhaseDeploy)
	cluster, err := x.runner.Deploy(ctx, runners.DeploySpec{Plan: x.plan, RunDir: runDir, ChainStart: time.Now(), Logger: x.log})
	if err != nil {
		return nil, x.fail(ctx, PhaseDeploy, err)
	}
	x.cluster = cluster
	d := &Deployment{Cluster: cluster, Nodes: cluster.Nodes(), RunDir: runDir, Started: x.start, x: x}
	if err := x.connect(); err != nil {
		return d, x.fail(ctx, PhaseDeploy, err)
	}
	x.writeTargets(runDir)
	x.phase(PhaseReadiness)
	if err := x.readiness(ctx); err != nil {
		return d, x.fail(ctx, PhaseReadiness, err)
	}
	return d, nil
}

// Exited reports node exits nobody asked for (a crash, an external kill).
// It returns nil when the runner does not watch its nodes.
func (d *Deployment) Exited() <-chan error {
	if ex, ok := d.Cluster.(ExitWatcher); ok {
		return ex.Exited()
	}
	return nil
}

// Teardown stops the cluster. It has its own deadline (Options.TeardownTimeout,
// default 2 min) and runs to the end even when ctx is already cancelled, so
// it can be called after an interrupt. It is safe to call more than once.
func (d *Deployment) Teardown(ctx context.Context) error {
	d.x.phase(PhaseTeardown)
	timeout := d.x.opts.TeardownTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := d.Cluster.Teardown(tctx); err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	return nil
}
