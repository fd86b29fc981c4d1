package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nomosrun/nomosrun/internal/versions"
)

var versionCmd = &command{
	name:  "version",
	usage: "",
	short: "print the versions nomosrun pins (versions.env)",
	run:   runVersion,
}

func runVersion(ctx context.Context, a *app, c *command, args []string) error {
	pos, err := parseArgs(a.newFlags(c), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(errors.New("version: takes no arguments"))
	}
	v, err := versions.Default()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "nomosrun %s\nreference node %s\nimage %s\nkubernetes %s\ngo.starlark.net %s\n",
		v.Nomosrun, v.NomosNode, v.TestnetImage, v.Kubernetes, v.GoStarlark)
	return nil
}
