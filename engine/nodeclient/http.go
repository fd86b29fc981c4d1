package nodeclient

import (
	"context"
	"net/http"
	"net/url"
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
func (c *HTTP) Info(ctx context.Context) (Info, error) {
	var in Info
	err := c.c.Call(ctx, nodeapi.MainAPI, http.MethodGet, "/cryptarchia/info", nil, &in)
	return in, err
}

// Headers implements Client.
func (c *HTTP) Headers(ctx context.Context, from, to string) ([]string, error) {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	path := "/cryptarchia/headers"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var ids []string
	err := c.c.Call(ctx, nodeapi.MainAPI, http.MethodGet, path, nil, &ids)
	return ids, err
}

// Block implements Client.
func (c *HTTP) Block(ctx context.Context, id string) (*Block, error) {
	var b *Block
	err := c.c.Call(ctx, nodeapi.MainAPI, http.MethodPost, "/storage/block", id, &b)
	return b, err
}

// AddTx implements Client.
func (c *HTTP) AddTx(ctx context.Context, tx Tx) error {
	return c.c.Call(ctx, nodeapi.MainAPI, http.MethodPost, "/mempool/add/tx", tx, nil)
}

// TxStatus implements Client.
func (c *HTTP) TxStatus(ctx context.Context, hashes []string) ([]TxStatus, error) {
	var st []TxStatus
	err := c.c.Call(ctx, nodeapi.MainAPI, http.MethodPost, "/mantle/status", hashes, &st)
	return st, err
}

// NetworkInfo implements Client.
func (c *HTTP) NetworkInfo(ctx context.Context) (NetworkInfo, error) {
	return c.c.NetworkInfo(ctx)
}

// Metrics implements Client.
func (c *HTTP) Metrics(ctx context.Context) (string, error) {
	return c.c.Metrics(ctx)
}

// DisperseData implements Client.
func (c *HTTP) DisperseData(ctx context.Context, r DispersalRequest) (BlobID, error) {
	var id BlobID
	err := c.c.Call(ctx, nodeapi.MainAPI, http.MethodPost, "/disperse-data", r, &id)
	return id, err
}

// DAMembership implements Client.
func (c *HTTP) DAMembership(ctx context.Context, session uint64) (Membership, error) {
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
func (c *HTTP) SetLinkFault(ctx context.Context, f LinkFault) error {
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
