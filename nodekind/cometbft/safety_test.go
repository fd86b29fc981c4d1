package cometbft

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/history"
)

// chainNode serves /status and /block_by_hash in CometBFT's shapes for a
// chain whose block at height h has hash hashes[h-1].
func chainNode(t *testing.T, hashes []string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tip := len(hashes)
		switch r.URL.Path {
		case "/status":
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":-1,"result":{"node_info":{"id":"n","network":"nomosrun-1"},
				"sync_info":{"latest_block_hash":%q,"latest_block_height":"%d","catching_up":false}}}`, hashes[tip-1], tip)
		case "/block_by_hash":
			want := strings.TrimPrefix(r.URL.Query().Get("hash"), "0x")
			for i, h := range hashes {
				if strings.EqualFold(h, want) {
					parent := ""
					if i > 0 {
						parent = hashes[i-1]
					}
					fmt.Fprintf(w, `{"jsonrpc":"2.0","id":-1,"result":{"block_id":{"hash":%q},"block":{"header":{"height":"%d","last_block_id":{"hash":%q}},"data":{"txs":[]}}}}`, h, i+1, parent)
					return
				}
			}
			fmt.Fprint(w, `{"jsonrpc":"2.0","id":-1,"result":{"block_id":{"hash":""},"block":null}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL, srv.URL)
}

func hashes(prefix string, from, to int) []string {
	var out []string
	for h := from; h <= to; h++ {
		out = append(out, strings.ToUpper(fmt.Sprintf("%s%063x", prefix, h)))
	}
	return out
}

// record polls each node once, as the engine does, into a history: what
// its Info reports, and the blocks down to genesis.
func record(t *testing.T, h *history.History, at time.Duration, nodes map[string]*Client) {
	t.Helper()
	ctx := context.Background()
	for name, c := range nodes {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.Observe(name, at, history.Observation{Tip: info.Tip, LIB: info.LIB, Height: info.Height, Mode: history.ModeOnline})
		id, height := info.Tip, info.Height
		for {
			b, err := c.Block(ctx, id)
			if err != nil || b == nil {
				t.Fatalf("block %s: %v", id, err)
			}
			h.AddBlock(id, b.Header.Parent, height)
			if height == 0 {
				break
			}
			id, height = b.Header.Parent, height-1
		}
	}
}

// TestSafetyCatchesTwoBlocksCommittedAtOneHeight: a BFT chain cannot fork
// without byzantine validators, so the checker is shown the history such a
// network would leave: two nodes committing different blocks at height 4.
// Read through this kind's client (every committed block is final), the
// safety check must name the conflict; the same nodes on one chain pass.
func TestSafetyCatchesTwoBlocksCommittedAtOneHeight(t *testing.T) {
	common := hashes("a", 1, 3)
	honest := append(append([]string{}, common...), hashes("a", 4, 5)...)
	forked := append(append([]string{}, common...), hashes("b", 4, 5)...)

	h := history.New()
	record(t, h, time.Second, map[string]*Client{"validator-0": chainNode(t, honest), "validator-1": chainNode(t, honest)})
	if err := history.CheckSafety(h).Err(); err != nil {
		t.Fatalf("one chain: %v", err)
	}

	h = history.New()
	record(t, h, time.Second, map[string]*Client{"validator-0": chainNode(t, honest), "validator-1": chainNode(t, forked)})
	err := history.CheckSafety(h).Err()
	if err == nil {
		t.Fatal("two blocks committed at height 4 passed the safety check")
	}
	if !strings.Contains(err.Error(), "are on different chains") || !strings.Contains(err.Error(), "height 5") {
		t.Fatalf("the error does not name the conflict: %v", err)
	}
}
