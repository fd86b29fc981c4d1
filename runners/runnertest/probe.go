package runnertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/runners"
)

// info is the part of GET /cryptarchia/info the suite reads.
type info struct {
	Height *uint64 `json:"height"`
	Slot   uint64  `json:"slot"`
	Tip    string  `json:"tip"`
	Mode   string  `json:"mode"`
}

// probeTimeout bounds one HTTP call; a frozen node must not stall the suite.
const probeTimeout = 500 * time.Millisecond

var client = &http.Client{Timeout: probeTimeout}

// height asks a node for its tip height.
func height(ctx context.Context, n runners.Node) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.API()+"/cryptarchia/info", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /cryptarchia/info: %s: %s", resp.Status, body)
	}
	var in info
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, fmt.Errorf("GET /cryptarchia/info: %w in %q", err, body)
	}
	if in.Height == nil || in.Tip == "" {
		return 0, fmt.Errorf("GET /cryptarchia/info: no height or tip in %q", body)
	}
	return *in.Height, nil
}

// answers reports whether an HTTP server answers at base (any status).
func answers(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// eventually polls cond every 100 ms until it returns nil or within passes,
// then fails the test with the last error.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reachHeight waits until node n answers with a height of at least h.
func reachHeight(t *testing.T, ctx context.Context, n runners.Node, h uint64, within time.Duration) uint64 {
	t.Helper()
	var got uint64
	eventually(t, within, fmt.Sprintf("%s reaches height %d", n.Name(), h), func() error {
		v, err := height(ctx, n)
		if err != nil {
			return err
		}
		got = v
		if v < h {
			return fmt.Errorf("height %d", v)
		}
		return nil
	})
	return got
}

// mustHeight returns a node's height or fails.
func mustHeight(t *testing.T, ctx context.Context, n runners.Node) uint64 {
	t.Helper()
	var h uint64
	eventually(t, 10*time.Second, n.Name()+" answers", func() error {
		var err error
		h, err = height(ctx, n)
		return err
	})
	return h
}

// goesDown waits until node n stops answering its API.
func goesDown(t *testing.T, ctx context.Context, n runners.Node, within time.Duration) {
	t.Helper()
	eventually(t, within, n.Name()+" stops answering", func() error {
		if h, err := height(ctx, n); err == nil {
			return fmt.Errorf("still answers (height %d)", h)
		}
		return nil
	})
}
