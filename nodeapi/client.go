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

// Client is a typed client of one node's main and testing HTTP APIs.
type Client struct {
	api, testing string
	hc           *http.Client
}

// NewClient returns a client of the node whose main API is at api and
// testing API at testing (base URLs such as "http://127.0.0.1:18080";
// testing may be empty). A nil hc gets a client with a 10 s timeout.
func NewClient(api, testing string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{api: strings.TrimRight(api, "/"), testing: strings.TrimRight(testing, "/"), hc: hc}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, strings.TrimSpace(e.Body))
}

// ErrNoTestingAPI is returned by testing-API calls of a client without one.
var ErrNoTestingAPI = errors.New("no testing API address")

func (c *Client) send(ctx context.Context, base, method, path string, body any) (*http.Response, error) {
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
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: string(data)}
	}
	return resp, nil
}

func (c *Client) do(ctx context.Context, base, method, path string, body, out any) error {
	resp, err := c.send(ctx, base, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode %.200q: %w", method, path, data, err)
	}
	return nil
}

// Info is GET /cryptarchia/info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var in Info
	return in, c.do(ctx, c.api, http.MethodGet, "/cryptarchia/info", nil, &in)
}

// Headers is GET /cryptarchia/headers: ids from `from` (nil: tip) back to
// `to` (nil: LIB), tip first.
func (c *Client) Headers(ctx context.Context, from, to *Hash) ([]Hash, error) {
	q := url.Values{}
	if from != nil {
		q.Set("from", from.String())
	}
	if to != nil {
		q.Set("to", to.String())
	}
	path := "/cryptarchia/headers"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var ids []Hash
	return ids, c.do(ctx, c.api, http.MethodGet, path, nil, &ids)
}

// Block is POST /storage/block; nil when the node does not know id.
func (c *Client) Block(ctx context.Context, id Hash) (*Block, error) {
	var b *Block
	return b, c.do(ctx, c.api, http.MethodPost, "/storage/block", id, &b)
}

// AddTx is POST /mempool/add/tx.
func (c *Client) AddTx(ctx context.Context, tx Tx) error {
	return c.do(ctx, c.api, http.MethodPost, "/mempool/add/tx", tx, nil)
}

// TxStatus is POST /mantle/status.
func (c *Client) TxStatus(ctx context.Context, hashes []Hash) ([]TxStatus, error) {
	var st []TxStatus
	return st, c.do(ctx, c.api, http.MethodPost, "/mantle/status", hashes, &st)
}

// MantleMetrics is GET /mantle/metrics.
func (c *Client) MantleMetrics(ctx context.Context) (MantleMetrics, error) {
	var m MantleMetrics
	return m, c.do(ctx, c.api, http.MethodGet, "/mantle/metrics", nil, &m)
}

// NetworkInfo is GET /network/info.
func (c *Client) NetworkInfo(ctx context.Context) (NetworkInfo, error) {
	var ni NetworkInfo
	return ni, c.do(ctx, c.api, http.MethodGet, "/network/info", nil, &ni)
}

// Metrics is GET /metrics: the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.send(ctx, c.api, http.MethodGet, "/metrics", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// LibStream follows GET /cryptarchia/lib-stream, calling f for each LIB
// change until ctx ends or the stream breaks.
func (c *Client) LibStream(ctx context.Context, f func(LibInfo)) error {
	resp, err := c.send(ctx, c.api, http.MethodGet, "/cryptarchia/lib-stream", nil)
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
	return id, c.do(ctx, c.api, http.MethodPost, "/disperse-data", r, &id)
}

// DAMembership is POST /test/da/membership for a session.
func (c *Client) DAMembership(ctx context.Context, session uint64) (Membership, error) {
	var m Membership
	return m, c.do(ctx, c.testing, http.MethodPost, "/test/da/membership", session, &m)
}

// BalancerStats is GET /da/balancer-stats.
func (c *Client) BalancerStats(ctx context.Context) (BalancerStats, error) {
	var s BalancerStats
	return s, c.do(ctx, c.api, http.MethodGet, "/da/balancer-stats", nil, &s)
}

// Shares is GET /da/sampling/shares with return_available: the raw
// newline-separated light shares the node holds for blob.
func (c *Client) Shares(ctx context.Context, blob BlobID) ([]json.RawMessage, error) {
	body := map[string]any{"blob_id": blob, "requested_shares": []any{}, "filter_shares": []any{}, "return_available": true}
	resp, err := c.send(ctx, c.api, http.MethodGet, "/da/sampling/shares", body)
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
	if err := c.do(ctx, c.api, http.MethodPost, "/da/get-commitments", map[string]any{"blob_id": blob, "session": 0}, &out); err != nil || out == nil {
		return nil, err
	}
	return out.Rows, nil
}

// BlockPeers cuts the node off from peers (peer ids or node names).
func (c *Client) BlockPeers(ctx context.Context, peers []string) error {
	return c.do(ctx, c.testing, http.MethodPost, PathBlockPeers, peers, nil)
}

// UnblockPeers lifts BlockPeers.
func (c *Client) UnblockPeers(ctx context.Context, peers []string) error {
	return c.do(ctx, c.testing, http.MethodPost, PathUnblockPeers, peers, nil)
}

// SetLinkFault delays and drops messages on the links to f.Peers.
func (c *Client) SetLinkFault(ctx context.Context, f LinkFault) error {
	return c.do(ctx, c.testing, http.MethodPost, PathLinkFault, f, nil)
}

// SetBugs switches the reference node's test-only bugs: each named bug
// takes the given state, the others keep theirs (POST /test/bugs).
func (c *Client) SetBugs(ctx context.Context, bugs map[string]bool) error {
	return c.do(ctx, c.testing, http.MethodPost, PathBugs, Bugs(bugs), nil)
}

// Bugs reads every test-only bug of the reference node and its state (GET
// /test/bugs).
func (c *Client) Bugs(ctx context.Context) (map[string]bool, error) {
	var b Bugs
	return b, c.do(ctx, c.testing, http.MethodGet, PathBugs, nil, &b)
}

// SetClockOffset shifts the node's clock (zero heals).
func (c *Client) SetClockOffset(ctx context.Context, offset time.Duration) error {
	return c.do(ctx, c.testing, http.MethodPost, PathClockOffset, ClockOffset{OffsetMS: offset.Milliseconds()}, nil)
}

// Faults reads back the active fault hooks.
func (c *Client) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	return f, c.do(ctx, c.testing, http.MethodGet, PathFaults, nil, &f)
}
