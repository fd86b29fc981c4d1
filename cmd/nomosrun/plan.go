package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/k8s"
	"github.com/nomosrun/nomosrun/starlib"
)

var planCmd = &command{
	name:  "plan",
	args:  argStar,
	usage: "FILE [--json] [--set name=value]... [--seed N] [--runner NAME] [--k8s-manifests DIR]",
	short: "interpret and validate a scenario and print its plan; touches nothing",
	flags: planFlags,
}

// scenarioFlags are the flags shared by the commands that interpret one scenario.
type scenarioFlags struct {
	set    setFlag
	seed   int64
	runner string
	// deployOnly marks a command that deploys the plan without judging it
	// (up), so a plan without expectations is valid for it.
	deployOnly bool
	// source, when set, is the scenario's text, named by the file argument
	// (nomosrun demo runs an embedded scenario).
	source []byte
	// shape overrides the shape the environment gives (nomosrun demo's flags).
	shape starlib.Shape
}

// scenarioFlagsOn declares the scenario flags on fs.
func scenarioFlagsOn(fs *flag.FlagSet) *scenarioFlags {
	f := &scenarioFlags{set: setFlag{}}
	fs.Var(f.set, "set", "set a scenario param: `name=value` (repeatable)")
	fs.Int64Var(&f.seed, "seed", plan.DefaultSeed, "seed of every random choice of the run")
	fs.StringVar(&f.runner, "runner", "host", "the runner, "+runnerChoices()+"; the plan is checked against its capabilities")
	return f
}

// load interprets and validates one scenario. On a validation error it
// returns the plan too, so callers can still show it.
func (a *app) load(ctx context.Context, file string, f *scenarioFlags) (*starlib.Result, error) {
	caps, err := capsOf(f.runner)
	if err != nil {
		return nil, usageError(err)
	}
	shape, err := a.scenarioShape()
	if err != nil {
		return nil, err
	}
	shape = overlay(shape, f.shape)
	opts := starlib.Options{Set: f.set, Seed: f.seed, Logger: a.logger, Shape: shape}
	var res *starlib.Result
	if f.source != nil {
		res, err = starlib.InterpretSource(ctx, file, f.source, opts)
	} else {
		res, err = starlib.InterpretFile(ctx, file, opts)
	}
	if err != nil {
		return nil, err
	}
	a.warnNotOptedIn(file, shape, res.OptedIn)
	a.logger.Debug("interpreted", "scenario", file, "seed", res.Plan.Seed)
	if f.deployOnly {
		err = res.Plan.ValidateDeployOn(f.runner+" runner", caps)
	} else {
		err = res.Plan.ValidateOn(f.runner+" runner", caps)
	}
	return res, errors.Join(err, checkKind(res.Plan))
}

// checkKind checks the plan against its node kind: a kind nomosrun does not
// know, or builtins the kind cannot serve, are plan errors.
func checkKind(p *plan.Plan) error {
	kind, err := nodekind.Get(p.Topology.Node)
	if err != nil {
		return &plan.PlanError{Pos: p.Topology.Pos, Msg: err.Error()}
	}
	return kind.Check(p)
}

func planFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	f := scenarioFlagsOn(fs)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	manifests := fs.String("k8s-manifests", "", "also write the plan's Kubernetes manifests to `DIR` (kubectl apply -f DIR)")
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 1 {
			return usageError(errors.New("plan: want exactly one scenario file; usage: nomosrun plan " + c.usage))
		}
		res, err := a.load(ctx, pos[0], f)
		if res == nil {
			return err
		}
		if err != nil {
			return err
		}
		if *manifests != "" {
			r, err := k8s.New(k8s.Options{})
			if err != nil {
				return err
			}
			paths, err := r.WriteManifests(res.Plan, *manifests, time.Now())
			if err != nil {
				return err
			}
			a.logger.Info("wrote Kubernetes manifests", "dir", *manifests, "files", len(paths))
		}
		if *asJSON {
			b, err := res.Plan.JSON()
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(b)
			return err
		}
		if err := res.Plan.WriteText(a.stdout); err != nil {
			return fmt.Errorf("write plan: %w", err)
		}
		if info, err := runners.Lookup(f.runner); err == nil && info.NetworkFaults != nil && res.Plan.MayUseKernelNetwork() {
			fmt.Fprintf(a.stdout, "\nnetwork faults on the %s runner here: %s\n", f.runner, info.NetworkFaults())
		}
		return nil
	}
}
