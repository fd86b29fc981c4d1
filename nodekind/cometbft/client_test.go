package cometbft

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// recorded serves answers a CometBFT v1.0.1 node gave (testdata/, taken
// from a one-validator network at height 23 holding the write "wabc=100").
func recorded(t *testing.T) *Client {
	t.Helper()
	file := func(w http.ResponseWriter, name string, code int) {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Error(err)
		}
		w.WriteHeader(code)
		w.Write(b)
	}
	const inBlock = "56326e7a59404056dc305b283d37836a4197c16f49921d3108118feddf555fd6"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := strings.ToLower(r.URL.RawQuery)
		switch {
		case r.URL.Path == "/status":
			file(w, "status.json", 200)
		case r.URL.Path == "/net_info":
			file(w, "net_info.json", 200)
		case r.URL.Path == "/block_by_hash" && q == "hash=0x"+inBlock:
			file(w, "block_by_hash.json", 200)
		case r.URL.Path == "/block_by_hash" && q == "hash=0x"+strings.ToLower(firstBlock):
			file(w, "block1.json", 200)
		case r.URL.Path == "/block_by_hash":
			file(w, "block_missing.json", 200)
		case r.URL.Path == "/block" && q == "height=23":
			file(w, "block.json", 200)
		case r.URL.Path == "/broadcast_tx_sync" && q == "tx=0x776162633d313030": // "wabc=100"
			file(w, "broadcast_ok.json", 200)
		case r.URL.Path == "/broadcast_tx_sync":
			file(w, "broadcast_refused.json", 500)
		case r.URL.Path == "/tx" && q == "hash=0x"+strings.ToLower(TxHash([]byte("wabc=100"))):
			file(w, "tx.json", 200)
		case r.URL.Path == "/tx":
			file(w, "tx_missing.json", 500)
		case r.URL.Path == "/metrics":
			w.Write([]byte("cometbft_consensus_height 24\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL, srv.URL)
}

// firstBlock is the hash of the recorded network's block 1.
const firstBlock = "F887ECF16A94178F64E115CC794B44A5FD6D5F73D41F7F45BD21B98E6D62A0F2"

func TestInfoReadsStatus(t *testing.T) {
	info, err := recorded(t).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Height != 21 || info.Tip != strings.ToLower(info.Tip) || len(info.Tip) != 64 {
		t.Fatalf("info = %+v, want height 21 and a lower-case hex tip", info)
	}
	if info.LIB != info.Tip || info.Mode != nodeapi.ModeOnline {
		t.Fatalf("info = %+v: a committed tip is final, and the node is not catching up", info)
	}
}

func TestBlockMapsParentsAndTransactions(t *testing.T) {
	ctx := context.Background()
	c := recorded(t)
	b, err := c.Block(ctx, "56326e7a59404056dc305b283d37836a4197c16f49921d3108118feddf555fd6")
	if err != nil || b == nil {
		t.Fatalf("block: %v, %v", b, err)
	}
	if b.Header.Slot != 23 || b.Header.Parent != "4037d4e8403732fca41e06ac3e458cde6dee8f27e6951c50f86b0586221d6f88" {
		t.Fatalf("header = %+v", b.Header)
	}
	if len(b.Transactions) != 1 {
		t.Fatalf("%d transactions, want the one write", len(b.Transactions))
	}
	raw, ok := RawTx(b.Transactions[0])
	if !ok || string(raw) != "wabc=100" {
		t.Fatalf("transaction = %q, %v", raw, ok)
	}
	if out := b.Transactions[0].MantleTx.LedgerTx.Outputs; len(out) != 1 || out[0].PK != "abc" || out[0].Value != 100 {
		t.Fatalf("outputs = %+v, want 100 to abc", out)
	}

	// Block 1's parent is the genesis nomosrun puts below it, whose parent
	// ends every walk.
	first, err := c.Block(ctx, strings.ToLower(firstBlock))
	if err != nil || first == nil {
		t.Fatalf("block 1: %v, %v", first, err)
	}
	if first.Header.Parent != GenesisID("nomosrun-1") {
		t.Fatalf("block 1's parent %s, want the genesis id", first.Header.Parent)
	}
	gen, err := c.Block(ctx, GenesisID("nomosrun-1"))
	if err != nil || gen == nil || gen.Header.Parent != nodeapi.GenesisParent {
		t.Fatalf("genesis = %+v, %v", gen, err)
	}

	if b, err := c.Block(ctx, strings.Repeat("ab", 32)); err != nil || b != nil {
		t.Fatalf("unknown block = %v, %v; want nil, nil", b, err)
	}
	if _, err := c.Block(ctx, "not hex"); err == nil {
		t.Fatal("a block id that is not hex was sent")
	}
}

func TestAddTxAndStatus(t *testing.T) {
	ctx := context.Background()
	c := recorded(t)
	if err := c.AddTx(ctx, WrapTx([]byte("wabc=100"))); err != nil {
		t.Fatal(err)
	}
	err := c.AddTx(ctx, WrapTx([]byte("bad")))
	if err == nil || !strings.Contains(err.Error(), "is invalid") {
		t.Fatalf("refused write: %v, want CometBFT's reason", err)
	}
	if err := c.AddTx(ctx, nodeapi.Tx{}); err == nil || !strings.Contains(err.Error(), "not a CometBFT transaction") {
		t.Fatalf("foreign transaction: %v", err)
	}
	st, err := c.TxStatus(ctx, []string{TxHash([]byte("wabc=100")), TxHash([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	if st[0].State != nodeapi.TxInBlock || st[0].Block != "56326e7a59404056dc305b283d37836a4197c16f49921d3108118feddf555fd6" {
		t.Errorf("included write: %+v", st[0])
	}
	if st[1].State != nodeapi.TxUnknown {
		t.Errorf("unknown write: %+v", st[1])
	}
}

func TestNetworkMetricsAndWhatANodeLacks(t *testing.T) {
	ctx := context.Background()
	c := recorded(t)
	ni, err := c.NetworkInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ni.PeerID != "91acccb86e9dcf46316e57706bf379824731a279" || ni.NPeers != 0 || len(ni.ListenAddresses) != 1 {
		t.Fatalf("network info = %+v", ni)
	}
	if m, err := c.Metrics(ctx); err != nil || !strings.Contains(m, "cometbft_consensus_height") {
		t.Fatalf("metrics = %q, %v", m, err)
	}
	if err := c.BlockPeers(ctx, []string{"x"}); !errors.Is(err, ErrNoFaultHooks) {
		t.Errorf("BlockPeers: %v", err)
	}
	if _, err := c.DisperseData(ctx, nodeapi.DispersalRequest{}); !errors.Is(err, ErrNoDA) {
		t.Errorf("DisperseData: %v", err)
	}
	ids, err := c.Headers(ctx, "", "")
	if err != nil || len(ids) != 1 {
		t.Fatalf("headers from the tip to the LIB = %v, %v; want the tip alone", ids, err)
	}
}

func TestAClosedNodeIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := NewClient(srv.URL, srv.URL).Info(context.Background()); err == nil {
		t.Fatal("a closed node answered")
	}
}
