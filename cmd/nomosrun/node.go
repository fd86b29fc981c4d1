package main

import (
	"context"

	"github.com/nomosrun/nomosrun/internal/installfiles"
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

// installFilesCmd copies a directory tree (package internal/installfiles):
// the Kubernetes runner runs it from the node image in an init container,
// to fill the writable home of a node kind that writes into its config
// directory from the node's read-only ConfigMap.
var installFilesCmd = &command{
	name:   installfiles.Command,
	usage:  "SRC DST",
	short:  "copy a node's rendered files into its home (used by the k8s runner)",
	hidden: true,
	raw: func(_ context.Context, a *app, args []string) error {
		if code := installfiles.Main(args, a.stderr); code != 0 {
			return withCode(ExitCode(code), errSilent)
		}
		return nil
	},
}
