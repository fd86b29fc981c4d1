package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/internal/doctor"
	"github.com/nomosrun/nomosrun/runners"
)

var doctorCmd = &command{
	name:  "doctor",
	usage: "[--runner " + strings.Join(runners.Names(), "|") + "]",
	short: "check the prerequisites of a runner, each with the fix when it fails (exit 6 when one the runner needs fails)",
	flags: doctorFlags,
}

func doctorFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	runner := fs.String("runner", "host", "the runner whose prerequisites must pass: "+runnerChoices())
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 0 {
			return usageError(errors.New("doctor: takes no arguments; usage: nomosrun doctor " + c.usage))
		}
		info, err := runners.Lookup(*runner)
		if err != nil {
			return usageError(err)
		}
		results := doctor.Run(ctx, doctor.Default(), info.Checks, true)
		if err := doctor.Write(a.stdout, results); err != nil {
			return err
		}
		failed := doctor.Failed(results)
		if len(failed) > 0 {
			return withCode(ExitInfrastructure, fmt.Errorf("doctor: %d check(s) the %s runner needs failed", len(failed), *runner))
		}
		fmt.Fprintf(a.stdout, "the %s runner is ready\n", *runner)
		return nil
	}
}

// precheck runs the checks a runner needs before a run starts anything.
func precheck(ctx context.Context, runner string) error {
	info, err := runners.Lookup(runner)
	if err != nil {
		return usageError(err)
	}
	return withCode(ExitInfrastructure, doctor.Require(ctx, doctor.Default(), runner, info.Checks))
}
