package nodeclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// DefaultTimeout bounds one HTTP call, so a frozen node never stalls the
// engine (the node API has no timeout of its own on the client side).
const DefaultTimeout = 5 * time.Second

// maxBody caps a response body; blocks carry up to 1024 transactions.
const maxBody = 64 << 20

// HTTP is a Client over the node's main and testing HTTP APIs.
type HTTP struct {
	api, testing string
	hc           *http.Client
}

// NewHTTP returns a client of the node at api (main API base URL) and testing
// (testing API base URL, may be empty). A nil hc gets DefaultTimeout.
func NewHTTP(api, testing string, hc *http.Client) *HTTP {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout, Transport: transport}
	}
	return &HTTP{api: strings.TrimRight(api, "/"), testing: strings.TrimRight(testing, "/"), hc: hc}
}

var _ Client = (*HTTP)(nil)

// transport keeps enough idle connections per node for the concurrent
// transaction submitters, the block feed and the height probes; the default
// of two makes every extra request open (and leave in TIME_WAIT) a new
// connection.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}()

// StatusError is a non-2xx answer of the node.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

// Error describes the failed call and the node's answer.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, strings.TrimSpace(e.Body))
}

// ErrNoTestingAPI is returned by testing-API calls when the node has none.
var ErrNoTestingAPI = errors.New("node has no testing API (fault hooks and DA membership need it)")

// do sends one request and decodes a JSON answer into out (when non-nil).
func (c *HTTP) do(ctx context.Context, base, method, path string, body, out any) error {
	if base == "" {
		return ErrNoTestingAPI
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode %.200q: %w", method, path, data, err)
	}
	return nil
}

// Info implements Client.
func (c *HTTP) Info(ctx context.Context) (Info, error) {
	var in Info
	err := c.do(ctx, c.api, http.MethodGet, "/cryptarchia/info", nil, &in)
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
	err := c.do(ctx, c.api, http.MethodGet, path, nil, &ids)
	return ids, err
}

// Block implements Client.
func (c *HTTP) Block(ctx context.Context, id string) (*Block, error) {
	var b *Block
	err := c.do(ctx, c.api, http.MethodPost, "/storage/block", id, &b)
	return b, err
}

// AddTx implements Client.
func (c *HTTP) AddTx(ctx context.Context, tx Tx) error {
	return c.do(ctx, c.api, http.MethodPost, "/mempool/add/tx", tx, nil)
}

// TxStatus implements Client.
func (c *HTTP) TxStatus(ctx context.Context, hashes []string) ([]TxStatus, error) {
	var st []TxStatus
	err := c.do(ctx, c.api, http.MethodPost, "/mantle/status", hashes, &st)
	return st, err
}

// NetworkInfo implements Client.
func (c *HTTP) NetworkInfo(ctx context.Context) (NetworkInfo, error) {
	var ni NetworkInfo
	err := c.do(ctx, c.api, http.MethodGet, "/network/info", nil, &ni)
	return ni, err
}

// Metrics implements Client.
func (c *HTTP) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", fmt.Errorf("GET /metrics: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return "", &StatusError{Method: "GET", Path: "/metrics", Code: resp.StatusCode, Body: string(data)}
	}
	return string(data), nil
}

// DisperseData implements Client.
func (c *HTTP) DisperseData(ctx context.Context, r DispersalRequest) (BlobID, error) {
	var id BlobID
	err := c.do(ctx, c.api, http.MethodPost, "/disperse-data", r, &id)
	return id, err
}

// DAMembership implements Client.
func (c *HTTP) DAMembership(ctx context.Context, session uint64) (Membership, error) {
	var m Membership
	err := c.do(ctx, c.testing, http.MethodPost, "/test/da/membership", session, &m)
	return m, err
}

// BlockPeers implements FaultHooks.
func (c *HTTP) BlockPeers(ctx context.Context, peers []string) error {
	return c.do(ctx, c.testing, http.MethodPost, nodeapi.PathBlockPeers, peers, nil)
}

// UnblockPeers implements FaultHooks.
func (c *HTTP) UnblockPeers(ctx context.Context, peers []string) error {
	return c.do(ctx, c.testing, http.MethodPost, nodeapi.PathUnblockPeers, peers, nil)
}

// SetLinkFault implements FaultHooks.
func (c *HTTP) SetLinkFault(ctx context.Context, f LinkFault) error {
	return c.do(ctx, c.testing, http.MethodPost, nodeapi.PathLinkFault, f, nil)
}

// SetBugs implements FaultHooks.
func (c *HTTP) SetBugs(ctx context.Context, bugs map[string]bool) error {
	return c.do(ctx, c.testing, http.MethodPost, nodeapi.PathBugs, nodeapi.Bugs(bugs), nil)
}

// SetClockOffset implements FaultHooks.
func (c *HTTP) SetClockOffset(ctx context.Context, offset time.Duration) error {
	return c.do(ctx, c.testing, http.MethodPost, nodeapi.PathClockOffset,
		nodeapi.ClockOffset{OffsetMS: offset.Milliseconds()}, nil)
}
