package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/nomosrun/nomosrun/internal/versions"
)

var versionCmd = &command{
	name:  "version",
	usage: "",
	short: "print the versions nomosrun pins (versions.env)",
	flags: versionFlags,
}

func versionFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	return func(ctx context.Context, pos []string) error {
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
}
