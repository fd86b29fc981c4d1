package nodeclient

import (
	"context"
	"net/http"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// HTTP is a Client over the node's main and testing HTTP APIs. It sends
// every call through nodeapi.Client, so the engine shares that client's
// transport, timeout (nodeapi.DefaultTimeout), body cap and errors
// (*nodeapi.StatusError, nodeapi.ErrNoTestingAPI).
type HTTP struct {
	c *nodeapi.Client
}

// NewHTTP returns a client of the node at api (main API base URL) and testing
// (testing API base URL, may be empty). A nil hc gets nodeapi.DefaultTimeout.
func NewHTTP(api, testing string, hc *http.Client) *HTTP {
	return &HTTP{c: nodeapi.NewClient(api, testing, hc)}
}

var _ Client = (*HTTP)(nil)

// Info implements Client.
func (c *HTTP) Info(ctx context.Context) (nodeapi.Info, error) {
	return c.c.Info(ctx)
}

// Headers implements Client.
func (c *HTTP) Headers(ctx context.Context, from, to string) ([]string, error) {
	return c.c.Headers(ctx, from, to)
}

// Block implements Client.
func (c *HTTP) Block(ctx context.Context, id string) (*nodeapi.Block, error) {
	return c.c.Block(ctx, id)
}

// AddTx implements Client.
func (c *HTTP) AddTx(ctx context.Context, tx nodeapi.Tx) error {
	return c.c.AddTx(ctx, tx)
}

// TxStatus implements Client.
func (c *HTTP) TxStatus(ctx context.Context, hashes []string) ([]nodeapi.TxStatus, error) {
	return c.c.TxStatus(ctx, hashes)
}

// NetworkInfo implements Client.
func (c *HTTP) NetworkInfo(ctx context.Context) (nodeapi.NetworkInfo, error) {
	return c.c.NetworkInfo(ctx)
}

// Metrics implements Client.
func (c *HTTP) Metrics(ctx context.Context) (string, error) {
	return c.c.Metrics(ctx)
}

// DisperseData implements Client.
func (c *HTTP) DisperseData(ctx context.Context, r nodeapi.DispersalRequest) (nodeapi.BlobID, error) {
	return c.c.DisperseData(ctx, r)
}

// DAMembership implements Client.
func (c *HTTP) DAMembership(ctx context.Context, session uint64) (nodeapi.Membership, error) {
	return c.c.DAMembership(ctx, session)
}

// BlockPeers implements FaultHooks.
func (c *HTTP) BlockPeers(ctx context.Context, peers []string) error {
	return c.c.BlockPeers(ctx, peers)
}

// UnblockPeers implements FaultHooks.
func (c *HTTP) UnblockPeers(ctx context.Context, peers []string) error {
	return c.c.UnblockPeers(ctx, peers)
}

// SetLinkFault implements FaultHooks.
func (c *HTTP) SetLinkFault(ctx context.Context, f nodeapi.LinkFault) error {
	return c.c.SetLinkFault(ctx, f)
}

// SetBugs implements FaultHooks.
func (c *HTTP) SetBugs(ctx context.Context, bugs map[string]bool) error {
	return c.c.SetBugs(ctx, bugs)
}

// SetClockOffset implements FaultHooks.
func (c *HTTP) SetClockOffset(ctx context.Context, offset time.Duration) error {
	return c.c.SetClockOffset(ctx, offset)
}
