// Command simnode is the reference node: it behaves like a Nomos validator
// or executor from the outside. Usage: simnode --config node.yaml
package main

import (
	"context"
	"os"

	"github.com/nomosrun/nomosrun/internal/installfiles"
	"github.com/nomosrun/nomosrun/runners/kernelnet/agent"
	"github.com/nomosrun/nomosrun/simnode/cli"
)

func main() {
	// The same binary serves network faults beside the node in a pod.
	if len(os.Args) > 1 && os.Args[1] == agent.Command {
		os.Exit(agent.Main(context.Background(), os.Args[2:], os.Stderr))
	}
	// And fills a node's writable home from its ConfigMap before it starts.
	if len(os.Args) > 1 && os.Args[1] == installfiles.Command {
		os.Exit(installfiles.Main(os.Args[2:], os.Stderr))
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
