package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/engine/plan"
)

var checkCmd = &command{
	name:  "check",
	args:  argStar,
	usage: "FILE... [--runner host|compose|k8s] [--seed N]",
	short: "interpret and validate many scenarios (for CI): one line per file, non-zero exit if any fails",
	flags: checkFlags,
}

func checkFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	f := scenarioFlagsOn(fs)
	return func(ctx context.Context, files []string) error {
		if len(files) == 0 {
			return usageError(errors.New("check: give at least one scenario file"))
		}
		if len(f.set) > 0 {
			return usageError(errors.New("check: --set is not supported; every scenario is checked with its param defaults"))
		}
		worst, failed := ExitOK, 0
		for _, file := range files {
			res, err := a.load(ctx, file, f)
			if err == nil {
				p := res.Plan
				warn := ""
				if len(p.Warnings) > 0 {
					warn = fmt.Sprintf("; %d warnings: %s", len(p.Warnings), p.Warnings[0])
				}
				fmt.Fprintf(a.stdout, "ok    %s (%d validators, %d executors, %d workloads, %d faults, %d expectations, %s%s)\n",
					file, p.Topology.Validators, p.Topology.Executors, len(p.Workloads), len(p.Faults), len(p.Expectations),
					p.Derived.RunDuration, warn)
				continue
			}
			if ctx.Err() != nil {
				return withCode(ExitInterrupted, ctx.Err())
			}
			failed++
			worst = max(worst, codeOf(err))
			fmt.Fprintf(a.stdout, "FAIL  %s: %s\n", file, oneLine(err))
		}
		if failed > 0 {
			return withCode(worst, fmt.Errorf("check: %d of %d scenarios failed", failed, len(files)))
		}
		return nil
	}
}

// oneLine joins the lines of a (possibly joined) error with "; ".
func oneLine(err error) string {
	if errs := plan.PlanErrors(err); len(errs) > 1 {
		parts := make([]string, len(errs))
		for i, e := range errs {
			parts[i] = e.Error()
		}
		return strings.Join(parts, "; ")
	}
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
