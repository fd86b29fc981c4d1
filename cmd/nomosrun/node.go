package main

import (
	"context"

	"github.com/nomosrun/nomosrun/runners/kernelnet/agent"
	"github.com/nomosrun/nomosrun/simnode/cli"
)

// nodeCmd runs the embedded reference node, so the host runner needs no
// second binary: it starts `nomosrun node --config FILE` for every node.
// Hidden from help: users run scenarios, not single nodes.
var nodeCmd = &command{
	name:   "node",
	usage:  "--config FILE",
	short:  "run one reference node (used by the host runner)",
	hidden: true,
	raw: func(ctx context.Context, a *app, args []string) error {
		if code := cli.Main(ctx, args, a.stdout, a.stderr); code != 0 {
			return withCode(ExitCode(code), errSilent)
		}
		return nil
	},
}

// netagentCmd serves kernel network faults from inside a pod's network
// namespace (package runners/kernelnet/agent): the Kubernetes runner starts
// it as a helper container beside each node, from the node image.
var netagentCmd = &command{
	name:   agent.Command,
	usage:  "[--listen ADDR]",
	short:  "serve network faults inside a pod (used by the k8s runner)",
	hidden: true,
	raw: func(ctx context.Context, a *app, args []string) error {
		if code := agent.Main(ctx, args, a.stderr); code != 0 {
			return withCode(ExitCode(code), errSilent)
		}
		return nil
	},
}
