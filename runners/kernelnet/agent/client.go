package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Client is a kernelnet.Endpoint served by a Server at a base URL.
type Client struct {
	base string
	http *http.Client
}

var _ kernelnet.Endpoint = (*Client)(nil)

// NewClient reaches the server at base (for example "http://127.0.0.1:41234").
func NewClient(base string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: time.Minute}}
}

// Ready waits until the server answers or ctx ends; a server that
// answers it cannot work (no privilege) is an error at once.
func (c *Client) Ready(ctx context.Context) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err == nil {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			var e errResp
			if json.Unmarshal(data, &e) == nil && e.Error != "" {
				return errors.New(e.Error)
			}
			err = fmt.Errorf("healthz: %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network agent at %s: %w", c.base, errors.Join(err, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// AddDrops adds the server's rules tagged id.
func (c *Client) AddDrops(ctx context.Context, id string, drops []kernelnet.Drop) error {
	r := dropsReq{ID: id, Drops: make([]dropEntry, len(drops))}
	for i, d := range drops {
		r.Drops[i] = dropEntry{Out: d.Out, Peer: d.Peer, Percent: d.Percent}
	}
	return c.call(ctx, "/drops", r, nil)
}

// RemoveDrops deletes the server's rules tagged id.
func (c *Client) RemoveDrops(ctx context.Context, id string) error {
	return c.call(ctx, "/drops/remove", dropsReq{ID: id}, nil)
}

// AddDelay puts a netem qdisc on the server's interface carrying addr.
func (c *Client) AddDelay(ctx context.Context, addr netip.Addr, delay, jitter time.Duration) error {
	return c.call(ctx, "/delay", delayReq{Addr: addr, Delay: delay, Jitter: jitter}, nil)
}

// RemoveDelay removes it.
func (c *Client) RemoveDelay(ctx context.Context, addr netip.Addr) error {
	return c.call(ctx, "/delay/remove", delayReq{Addr: addr}, nil)
}

// Dial makes the server open and close a TCP connection to to.
func (c *Client) Dial(ctx context.Context, to netip.AddrPort, timeout time.Duration) (time.Duration, error) {
	var out dialResp
	if err := c.call(ctx, "/dial", dialReq{To: to, Timeout: timeout}, &out); err != nil {
		return 0, err
	}
	switch {
	case out.Timeout:
		return out.RTT, timeoutError(out.Error)
	case out.Error != "":
		return out.RTT, errors.New(out.Error)
	}
	return out.RTT, nil
}

// ListenTCP opens a probe listener in the server's namespace.
func (c *Client) ListenTCP(ctx context.Context, addr netip.Addr) (netip.AddrPort, io.Closer, error) {
	var out listenResp
	if err := c.call(ctx, "/tcp", listenReq{Addr: addr}, &out); err != nil {
		return netip.AddrPort{}, nil, err
	}
	return out.Addr, remote{c, out.ID}, nil
}

// ListenUDP opens a probe sink in the server's namespace.
func (c *Client) ListenUDP(ctx context.Context, addr netip.Addr) (kernelnet.Sink, error) {
	var out listenResp
	if err := c.call(ctx, "/udp", listenReq{Addr: addr}, &out); err != nil {
		return nil, err
	}
	return sink{remote{c, out.ID}, out.Addr}, nil
}

// SendUDP makes the server send a probe burst.
func (c *Client) SendUDP(ctx context.Context, to netip.AddrPort, tag [8]byte, count int) error {
	return c.call(ctx, "/send", sendReq{To: to, Tag: tag, Count: count}, nil)
}

// Close releases nothing on the server: its listeners close one by one.
func (c *Client) Close() error { return nil }

// call posts in as JSON to path and decodes the answer into out.
func (c *Client) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("network agent: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("network agent %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errResp
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			return fmt.Errorf("network agent %s: %s: %s", path, resp.Status, bytes.TrimSpace(data))
		}
		if e.NoNetem {
			return fmt.Errorf("%w (in the pod's kernel)", kernelnet.ErrNoNetem)
		}
		return errors.New(e.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// remote is a listener or sink on the server, closed by id.
type remote struct {
	c  *Client
	id string
}

func (r remote) Close() error {
	return r.c.call(context.Background(), "/close", closeReq{ID: r.id}, nil)
}

type sink struct {
	remote
	addr netip.AddrPort
}

func (s sink) Addr() netip.AddrPort { return s.addr }

func (s sink) Count(ctx context.Context, tag [8]byte, count int) (int, error) {
	var out countResp
	err := s.c.call(ctx, "/udp/count", countReq{ID: s.id, Tag: tag, Count: count}, &out)
	return out.Count, err
}

// timeoutError is a remote dial that timed out; kernelnet.IsTimeout holds.
type timeoutError string

func (e timeoutError) Error() string   { return string(e) }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }
