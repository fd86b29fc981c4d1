package main

import (
	"context"
	"fmt"

	"github.com/nomosrun/nomosrun/runners/compose"
)

var cleanCmd = &command{
	name:  "clean",
	usage: "[--run ID]",
	short: "remove the containers, networks and volumes earlier compose runs left (found by their io.nomosrun.run label)",
	run:   runClean,
}

func runClean(ctx context.Context, a *app, c *command, args []string) error {
	fs := a.newFlags(c)
	run := fs.String("run", "", "remove only what the run with this id left (default: every run)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError(fmt.Errorf("clean: unexpected argument %q; usage: nomosrun clean %s", pos[0], c.usage))
	}
	cli, err := compose.Docker(ctx)
	if err != nil {
		return withCode(ExitInfrastructure, err)
	}
	defer cli.Close()
	removed, err := compose.Clean(ctx, cli, *run)
	for _, o := range removed {
		fmt.Fprintf(a.stdout, "removed %s\n", o)
	}
	if err != nil {
		return withCode(ExitInfrastructure, err)
	}
	if len(removed) == 0 {
		fmt.Fprintln(a.stdout, "nothing to clean")
	}
	return nil
}
