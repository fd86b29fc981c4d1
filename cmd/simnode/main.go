// Command simnode is the reference node: it behaves like a Nomos validator
// or executor from the outside. Usage: simnode --config node.yaml
package main

import (
	"context"
	"os"

	"github.com/nomosrun/nomosrun/simnode/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
