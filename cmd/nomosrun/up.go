package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/attach"
)

var upCmd = &command{
	name:  "up",
	args:  argStar,
	usage: "FILE [--runner host] [--set name=value]... [--seed N] [--run-dir DIR]",
	short: "deploy a scenario's topology and keep it running until 'nomosrun down RUN_DIR' or Ctrl-C",
	flags: upFlags,
}

// endpointsFile is the file, in the run directory, that describes a cluster
// kept up by `nomosrun up`; `nomosrun down` and the attach runner read it.
const endpointsFile = attach.File

func upFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	f := scenarioFlagsOn(fs)
	f.deployOnly = true
	runDirFlag := fs.String("run-dir", "", "keep the run directory in `DIR`: configs, data, node logs, endpoints.json; node data left there by an earlier cluster is removed (default: a temporary directory, removed after a clean teardown)")
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 1 {
			return usageError(errors.New("up: want exactly one scenario file; usage: nomosrun up " + c.usage))
		}
		res, err := a.load(ctx, pos[0], f)
		if err != nil {
			return err
		}
		for _, w := range res.Plan.Warnings {
			fmt.Fprintf(a.stderr, "warning: %s\n", w)
		}
		if n := len(res.Plan.Workloads) + len(res.Plan.Faults) + len(res.Plan.Expectations); n > 0 {
			fmt.Fprintln(a.stderr, "note: up deploys the topology only; the scenario's workloads, faults and expectations are not run")
		}
		r, err := runners.New(f.runner)
		if err != nil {
			return usageError(err)
		}
		if *runDirFlag != "" {
			if ep, err := readEndpoints(*runDirFlag); err == nil && upAlive(ep) {
				return usageError(fmt.Errorf("a cluster is already up from %s (nomosrun up, pid %d); stop it first with: nomosrun down %s",
					*runDirFlag, ep.PID, *runDirFlag))
			}
		}
		dir, keep, err := runDirectory(*runDirFlag, res.Plan.Scenario)
		if err != nil {
			return withCode(ExitInfrastructure, err)
		}
		// A new cluster has a new chain start: blocks stored by an earlier
		// cluster in this directory would sit in its future and stall it.
		if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
			return withCode(ExitInfrastructure, fmt.Errorf("clear the node data of an earlier cluster: %w", err))
		}
		fmt.Fprintf(a.stderr, "nomosrun: bringing up %s on the %s runner (seed %d), run directory %s\n",
			res.Plan.Scenario, r.Name(), res.Plan.Seed, dir)
		prog := newProgress(a.stderr)
		d, err := run.Up(ctx, res.Plan, r, run.Options{RunDir: dir, Observer: prog.observe, Logger: a.engineLogger()})
		prog.done()
		if err != nil {
			a.finishRunDir(dir, false)
			return withCode(codeOf(err), err)
		}

		ep := newEndpoints(res.Plan, r.Name(), d)
		if err := attach.Write(dir, ep); err != nil {
			if terr := d.Teardown(ctx); terr != nil {
				err = errors.Join(err, terr)
			}
			return withCode(ExitInfrastructure, err)
		}
		if err := printEndpoints(a.stdout, ep); err != nil {
			a.logger.Warn("print endpoints", "err", err)
		}
		printObservability(a.stderr, dir, true)
		fmt.Fprintf(a.stderr, "nomosrun: cluster up; endpoints in %s\nnomosrun: stop it with: nomosrun down %s   (or Ctrl-C here)\n",
			filepath.Join(dir, endpointsFile), dir)

		waitInterrupt(ctx, a, d.Exited())

		fmt.Fprintln(a.stderr, "nomosrun: tearing down")
		if err := d.Teardown(ctx); err != nil {
			return withCode(ExitInfrastructure, err)
		}
		if err := os.Remove(filepath.Join(dir, endpointsFile)); err != nil {
			a.logger.Warn("remove endpoints file", "err", err)
		}
		a.finishRunDir(dir, !keep)
		fmt.Fprintln(a.stderr, "nomosrun: cluster down")
		return nil
	}
}

// waitInterrupt blocks until ctx ends (SIGINT/SIGTERM). A node that exits
// on its own is reported but does not end the wait: the user may be
// killing nodes on purpose.
func waitInterrupt(ctx context.Context, a *app, exited <-chan error) {
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-exited:
			if !ok {
				exited = nil
				continue
			}
			fmt.Fprintf(a.stderr, "nomosrun: warning: %v\n", err)
		}
	}
}

func newEndpoints(p *plan.Plan, runner string, d *run.Deployment) *attach.Endpoints {
	exe, _ := os.Executable()
	ep := &attach.Endpoints{Scenario: p.Scenario, Runner: runner, PID: os.Getpid(), Executable: exe,
		StartedAt: d.Started.UTC().Truncate(time.Millisecond), RunDir: d.RunDir, Kind: p.Topology.Node, Nodes: []attach.Node{}}
	for _, n := range d.Nodes {
		node := attach.Node{Name: n.Name(), Role: string(n.Role()), API: n.API(), TestingAPI: n.TestingAPI()}
		if c, ok := n.(runners.ContainerNode); ok {
			node.Container = c.Container()
		}
		ep.Nodes = append(ep.Nodes, node)
	}
	return ep
}

// printEndpoints prints one aligned line per node: name, role, API URL and
// testing API URL.
func printEndpoints(w io.Writer, ep *attach.Endpoints) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tAPI\tTESTING API")
	for _, n := range ep.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Name, n.Role, n.API, n.TestingAPI)
	}
	return tw.Flush()
}
