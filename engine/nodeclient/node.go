package nodeclient

import "github.com/nomosrun/nomosrun/engine/plan"

// Node is one deployed node as every engine package sees it: its name and
// role in the topology and the client that talks to it.
type Node struct {
	Name   string
	Role   plan.Role
	Client Client
}
