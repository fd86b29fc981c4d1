package nodeapi

import (
	"bufio"
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
)

// DefaultTimeout bounds one HTTP call of a client built without its own
// http.Client, so a frozen node never stalls the caller.
const DefaultTimeout = 5 * time.Second

// MaxBody caps a response body; blocks carry up to 1024 transactions.
const MaxBody = 256 << 20

// transport keeps enough idle connections per node for the concurrent
// transaction submitters, the block feed and the height probes; the default
// of two makes every extra request open (and leave in TIME_WAIT) a new
// connection.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}()

// Client is the HTTP client of one node's main and testing APIs.
type Client struct {
	api, testing string
	hc           *http.Client
}

// NewClient returns a client of the node whose main API is at api and
// testing API at testing (base URLs such as "http://127.0.0.1:18080";
// testing may be empty). A nil hc gets DefaultTimeout.
func NewClient(api, testing string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout, Transport: transport}
	}
	return &Client{api: strings.TrimRight(api, "/"), testing: strings.TrimRight(testing, "/"), hc: hc}
}

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

// ErrNoTestingAPI is returned by testing-API calls of a client without one.
var ErrNoTestingAPI = errors.New("node has no testing API (fault hooks and DA membership need it)")

// API selects which of a node's HTTP APIs a call goes to.
type API int

// The node's HTTP APIs.
const (
	MainAPI    API = iota // the node API (consensus, mempool, DA, metrics)
	TestingAPI            // the testing API (fault hooks, DA membership)
)

func (c *Client) base(api API) string {
	if api == TestingAPI {
		return c.testing
	}
	return c.api
}

func (c *Client) send(ctx context.Context, api API, method, path string, body any) (*http.Response, error) {
	base := c.base(api)
	if base == "" {
		return nil, ErrNoTestingAPI
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		resp.Body.Close()
		return nil, &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: string(data)}
	}
	return resp, nil
}

// read sends one request and returns the answer's body (at most MaxBody).
func (c *Client) read(ctx context.Context, api API, method, path string, body any) ([]byte, error) {
	resp, err := c.send(ctx, api, method, path, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return data, nil
}

// call sends one request to api with body (when non-nil) encoded as JSON
// and decodes the JSON answer into out (when non-nil). A non-2xx answer is
// a *StatusError.
func (c *Client) call(ctx context.Context, api API, method, path string, body, out any) error {
	data, err := c.read(ctx, api, method, path, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode %.200q: %w", method, path, data, err)
	}
	return nil
}

// Get sends GET path to api and decodes the JSON answer into out: the same
// transport, timeout, body cap and errors for the routes of nodes whose API
// has other shapes (node kinds other than the reference node's).
func (c *Client) Get(ctx context.Context, api API, path string, out any) error {
	return c.call(ctx, api, http.MethodGet, path, nil, out)
}

// Text sends GET path to api and returns the answer as text.
func (c *Client) Text(ctx context.Context, api API, path string) (string, error) {
	b, err := c.read(ctx, api, http.MethodGet, path, nil)
	return string(b), err
}

// Info is GET /cryptarchia/info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var in Info
	return in, c.call(ctx, MainAPI, http.MethodGet, "/cryptarchia/info", nil, &in)
}

// Headers is GET /cryptarchia/headers: ids from `from` (empty: tip) back
// to `to` (empty: LIB), tip first.
func (c *Client) Headers(ctx context.Context, from, to string) ([]string, error) {
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
	return ids, c.call(ctx, MainAPI, http.MethodGet, path, nil, &ids)
}

// Block is POST /storage/block; nil when the node does not know id.
func (c *Client) Block(ctx context.Context, id string) (*Block, error) {
	var b *Block
	return b, c.call(ctx, MainAPI, http.MethodPost, "/storage/block", id, &b)
}

// AddTx is POST /mempool/add/tx.
func (c *Client) AddTx(ctx context.Context, tx Tx) error {
	return c.call(ctx, MainAPI, http.MethodPost, "/mempool/add/tx", tx, nil)
}

// TxStatus is POST /mantle/status.
func (c *Client) TxStatus(ctx context.Context, hashes []string) ([]TxStatus, error) {
	var st []TxStatus
	return st, c.call(ctx, MainAPI, http.MethodPost, "/mantle/status", hashes, &st)
}

// MantleMetrics is GET /mantle/metrics.
func (c *Client) MantleMetrics(ctx context.Context) (MantleMetrics, error) {
	var m MantleMetrics
	return m, c.call(ctx, MainAPI, http.MethodGet, "/mantle/metrics", nil, &m)
}

// NetworkInfo is GET /network/info.
func (c *Client) NetworkInfo(ctx context.Context) (NetworkInfo, error) {
	var ni NetworkInfo
	return ni, c.call(ctx, MainAPI, http.MethodGet, "/network/info", nil, &ni)
}

// Metrics is GET /metrics: the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	return c.Text(ctx, MainAPI, "/metrics")
}

// LibStream follows GET /cryptarchia/lib-stream, calling f for each LIB
// change until ctx ends or the stream breaks.
func (c *Client) LibStream(ctx context.Context, f func(LibInfo)) error {
	resp, err := c.send(ctx, MainAPI, http.MethodGet, "/cryptarchia/lib-stream", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var li LibInfo
		if err := json.Unmarshal(sc.Bytes(), &li); err != nil {
			return fmt.Errorf("lib-stream: %w", err)
		}
		f(li)
	}
	return sc.Err()
}

// DisperseData is POST /disperse-data (executors); it returns the blob id.
func (c *Client) DisperseData(ctx context.Context, r DispersalRequest) (BlobID, error) {
	var id BlobID
	return id, c.call(ctx, MainAPI, http.MethodPost, "/disperse-data", r, &id)
}

// DAMembership is POST /test/da/membership for a session.
func (c *Client) DAMembership(ctx context.Context, session uint64) (Membership, error) {
	var m Membership
	return m, c.call(ctx, TestingAPI, http.MethodPost, "/test/da/membership", session, &m)
}

// BalancerStats is GET /da/balancer-stats.
func (c *Client) BalancerStats(ctx context.Context) (BalancerStats, error) {
	var s BalancerStats
	return s, c.call(ctx, MainAPI, http.MethodGet, "/da/balancer-stats", nil, &s)
}

// Shares is GET /da/sampling/shares with return_available: the raw
// newline-separated light shares the node holds for blob.
func (c *Client) Shares(ctx context.Context, blob BlobID) ([]json.RawMessage, error) {
	body := map[string]any{"blob_id": blob, "requested_shares": []any{}, "filter_shares": []any{}, "return_available": true}
	resp, err := c.send(ctx, MainAPI, http.MethodGet, "/da/sampling/shares", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []json.RawMessage
	dec := json.NewDecoder(resp.Body)
	for {
		var m json.RawMessage
		if err := dec.Decode(&m); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("shares: %w", err)
		}
		out = append(out, m)
	}
}

// Commitments is POST /da/get-commitments: the row commitments of blob, or
// nil when the node has none.
func (c *Client) Commitments(ctx context.Context, blob BlobID) ([]Bytes, error) {
	var out *struct {
		Rows []Bytes `json:"rows_commitments"`
	}
	if err := c.call(ctx, MainAPI, http.MethodPost, "/da/get-commitments", map[string]any{"blob_id": blob, "session": 0}, &out); err != nil || out == nil {
		return nil, err
	}
	return out.Rows, nil
}

// BlockPeers cuts the node off from peers (peer ids or node names).
func (c *Client) BlockPeers(ctx context.Context, peers []string) error {
	return c.call(ctx, TestingAPI, http.MethodPost, PathBlockPeers, peers, nil)
}

// UnblockPeers lifts BlockPeers.
func (c *Client) UnblockPeers(ctx context.Context, peers []string) error {
	return c.call(ctx, TestingAPI, http.MethodPost, PathUnblockPeers, peers, nil)
}

// SetLinkFault delays and drops messages on the links to f.Peers.
func (c *Client) SetLinkFault(ctx context.Context, f LinkFault) error {
	return c.call(ctx, TestingAPI, http.MethodPost, PathLinkFault, f, nil)
}

// SetBugs switches the reference node's test-only bugs: each named bug
// takes the given state, the others keep theirs (POST /test/bugs).
func (c *Client) SetBugs(ctx context.Context, bugs map[string]bool) error {
	return c.call(ctx, TestingAPI, http.MethodPost, PathBugs, Bugs(bugs), nil)
}

// Bugs reads every test-only bug of the reference node and its state (GET
// /test/bugs).
func (c *Client) Bugs(ctx context.Context) (map[string]bool, error) {
	var b Bugs
	return b, c.call(ctx, TestingAPI, http.MethodGet, PathBugs, nil, &b)
}

// SetClockOffset shifts the node's clock (zero heals).
func (c *Client) SetClockOffset(ctx context.Context, offset time.Duration) error {
	return c.call(ctx, TestingAPI, http.MethodPost, PathClockOffset, ClockOffset{OffsetMS: offset.Milliseconds()}, nil)
}

// Faults reads back the active fault hooks.
func (c *Client) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	return f, c.call(ctx, TestingAPI, http.MethodGet, PathFaults, nil, &f)
}
