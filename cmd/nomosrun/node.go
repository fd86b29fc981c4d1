package main

import (
	"context"

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
