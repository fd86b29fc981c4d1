// Package nodeclient is the engine's seam to a running node: the small set of
// node HTTP API calls the engine makes (consensus info, chain walk, mempool,
// DA, metrics, testing-API fault hooks) as one interface, and an HTTP
// implementation of it that sends every call through nodeapi.Client (one
// transport, timeout, body cap and StatusError).
//
// Every engine package talks to nodes only through Client, so engine tests run
// against in-memory nodes and the real node API can be swapped in without
// touching the lifecycle. Calls exchange the node API's wire types (package
// nodeapi), which read the reference node and a real Nomos node alike.
package nodeclient

import (
	"context"
	"errors"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// Client is everything the engine asks of one node. Calls that do not apply
// to a node (DisperseData on a validator) return the node's error.
type Client interface {
	// Info is GET /cryptarchia/info.
	Info(ctx context.Context) (nodeapi.Info, error)
	// Headers is GET /cryptarchia/headers: ids from `from` (default tip)
	// back to `to` (default LIB), tip first. Empty strings mean defaults.
	Headers(ctx context.Context, from, to string) ([]string, error)
	// Block is POST /storage/block; nil when the node does not know id.
	Block(ctx context.Context, id string) (*nodeapi.Block, error)
	// AddTx is POST /mempool/add/tx.
	AddTx(ctx context.Context, tx nodeapi.Tx) error
	// TxStatus is POST /mantle/status.
	TxStatus(ctx context.Context, hashes []string) ([]nodeapi.TxStatus, error)
	// NetworkInfo is GET /network/info.
	NetworkInfo(ctx context.Context) (nodeapi.NetworkInfo, error)
	// Metrics is GET /metrics in the Prometheus text format.
	Metrics(ctx context.Context) (string, error)
	// DisperseData is POST /disperse-data (executors): it returns the blob id.
	DisperseData(ctx context.Context, req nodeapi.DispersalRequest) (nodeapi.BlobID, error)
	// DAMembership is POST /test/da/membership for a session.
	DAMembership(ctx context.Context, session uint64) (nodeapi.Membership, error)
	// FaultHooks are the testing-API fault hooks.
	FaultHooks
}

// ErrNoFaultHooks is what the FaultHooks of a node without any return
// (wrapped): its network faults can only come from outside, from the kernel.
var ErrNoFaultHooks = errors.New("the node has no fault hooks")

// FaultHooks are the testing-API calls through which faults work the same on
// every runner. Peers are named by their peer id (NetworkInfo.PeerID) or, when
// a node reports none, by node name.
type FaultHooks interface {
	// BlockPeers drops every message to and from the given peers.
	BlockPeers(ctx context.Context, peers []string) error
	// UnblockPeers lifts BlockPeers for the given peers.
	UnblockPeers(ctx context.Context, peers []string) error
	// SetLinkFault delays and drops messages on links to f.Peers.
	SetLinkFault(ctx context.Context, f nodeapi.LinkFault) error
	// SetClockOffset shifts the node's clock by offset (zero heals).
	SetClockOffset(ctx context.Context, offset time.Duration) error
	// SetBugs switches test-only bugs of the reference node on or off (the
	// named ones; the others keep their state). A node without them
	// refuses.
	SetBugs(ctx context.Context, bugs map[string]bool) error
}
