package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/nomosrun/nomosrun/runners/compose"
	"github.com/nomosrun/nomosrun/runners/k8s"
)

var cleanCmd = &command{
	name:  "clean",
	usage: "[--run ID]",
	short: "remove what killed runs left: compose containers, networks and volumes (found by their io.nomosrun.run label), Kubernetes namespaces (label nomosrun.io/run) and host network namespaces",
	flags: cleanFlags,
}

func cleanFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	run := fs.String("run", "", "remove what the run with this id left, even if it is still running (default: every run whose nomosrun has exited)")
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 0 {
			return usageError(fmt.Errorf("clean: unexpected argument %q; usage: nomosrun clean %s", pos[0], c.usage))
		}
		cleaned := 0
		if *run == "" {
			var err error
			if cleaned, err = cleanNamespaces(ctx, a); err != nil {
				return withCode(ExitInfrastructure, err)
			}
		}
		cli, err := compose.Docker(ctx)
		if err != nil {
			return withCode(ExitInfrastructure, err)
		}
		defer cli.Close()
		removed, skipped, err := compose.Clean(ctx, cli, *run)
		for _, o := range removed {
			fmt.Fprintf(a.stdout, "removed %s\n", o)
		}
		runs := map[string]bool{}
		for _, o := range skipped {
			if !runs[o.Run] {
				runs[o.Run] = true
				fmt.Fprintf(a.stdout, "kept run %s: the nomosrun that started it (%s) is still running; remove it anyway with --run %s\n", o.Run, o.Owner, o.Run)
			}
		}
		if err != nil {
			return withCode(ExitInfrastructure, err)
		}
		cleaned += cleanK8s(ctx, a, *run)
		if len(removed) == 0 && len(skipped) == 0 && cleaned == 0 {
			fmt.Fprintln(a.stdout, "nothing to clean")
		}
		return nil
	}
}

// cleanK8s deletes the namespaces of killed Kubernetes runs when a cluster
// is configured, and returns how many namespaces it named. A configured
// cluster that does not answer is a warning: the other runners' leftovers
// are still cleaned.
func cleanK8s(ctx context.Context, a *app, run string) int {
	if _, err := k8s.LoadConfig(); err != nil {
		return 0 // no cluster configured
	}
	r, err := k8s.New(k8s.Options{})
	if err == nil {
		var removed, kept []string
		removed, kept, err = r.Clean(ctx, run)
		for _, ns := range removed {
			fmt.Fprintf(a.stdout, "removed Kubernetes namespace %s\n", ns)
		}
		for _, ns := range kept {
			fmt.Fprintf(a.stdout, "kept Kubernetes namespace %s: the nomosrun that started it is still running; remove it anyway with --run\n", ns)
		}
		if err == nil {
			return len(removed) + len(kept)
		}
	}
	fmt.Fprintf(a.stderr, "clean: Kubernetes runs not cleaned: %v\n", err)
	return 0
}
