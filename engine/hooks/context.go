// Package hooks runs a scenario's run-time hooks: script functions the engine
// calls during the drive phase, every interval, once at a time, or on each
// new canonical block. Hooks run one at a time, in time order and then
// registration order, on one goroutine, so a script sees a consistent run.
//
// This file is the contract between the engine and the interpreter: the
// interpreter implements Caller, the engine implements Context.
package hooks

import (
	"context"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// Caller calls a hook's script function. The interpreter implements it.
type Caller interface {
	// Call runs hook with the run context. For an on_block hook b is the
	// new block; otherwise nil. A returned error stops the run: a
	// *starlib.ScriptError for a broken or failing hook; the error of a
	// Context method that an action called, wrapped (errors.Is finds it);
	// ctx.Err() wrapped when ctx is cancelled during the call.
	Call(ctx context.Context, hook plan.Hook, rc Context, b *Block) error
}

// Context is what a hook reads and does while the run goes on.
type Context interface {
	// Elapsed is the time since the drive phase started.
	Elapsed() time.Duration
	// Slot is the current slot by the cluster's clock.
	Slot() uint64
	// Height is the height of the canonical chain observed so far.
	Height() uint64
	// Nodes are the nodes in topology order, as last observed.
	Nodes() []NodeState
	// Peers asks node how many peers it is connected to.
	Peers(ctx context.Context, node string) (int, error)
	// Block returns an observed block by id.
	Block(id string) (Block, bool)
	// Chain returns the canonical blocks with heights from..to (inclusive).
	Chain(from, to uint64) []Block
	// Timeline returns the faults and restarts so far, in time order.
	Timeline() []Event
	// Workloads returns each workload's counters.
	Workloads() map[string]map[string]int
	// Transfer submits seeded wallet's transfer of its genesis note (each
	// wallet has one, so it can be spent once per run), counted under the
	// calling hook, and returns the transaction's hash.
	Transfer(ctx context.Context, hook plan.Hook, wallet int) (string, error)
	// StartFault starts f now (its At is ignored); it heals after its
	// Duration, by Heal, or at the end of the run. It returns the fault id.
	// f comes resolved and checked against the plan's topology
	// (plan.Plan.ResolveFault: Targets.Nodes, Partition.Groups), with Pos
	// the position of the action in the script; its ID is empty.
	StartFault(ctx context.Context, hook plan.Hook, f plan.Fault) (string, error)
	// Heal heals a fault a hook started: id is one StartFault returned.
	Heal(ctx context.Context, id string) error
	// StopNode and StartNode stop a node (it stays down) and start it again.
	StopNode(ctx context.Context, node string) error
	StartNode(ctx context.Context, node string) error
	// Restart restarts a node.
	Restart(ctx context.Context, node string) error
	// Record appends value to the named series, at the current time.
	Record(hook plan.Hook, name string, value float64)
	// Log prints msg in the run's progress output.
	Log(hook plan.Hook, msg string)
}

// NodeState is a node as last observed.
type NodeState struct {
	Name   string
	Role   plan.Role
	Height uint64
	Slot   uint64
	Tip    string
	LIB    string
	Mode   string
	// Err is why the node did not answer its last poll, if it did not.
	Err string
}

// Block is an observed block.
type Block struct {
	ID     string
	Parent string
	Height uint64
	Slot   uint64
	// Txs are the hashes of its transactions.
	Txs []string
}

// Event is a fault starting or healing, or a node restarting.
type Event struct {
	At   time.Duration // since the drive phase started
	Kind string        // a fault kind or "restart"
	// Fault is the fault id; empty for a restart.
	Fault string
	Phase string // "start", "heal" or "" for a restart
	Nodes []string
}
