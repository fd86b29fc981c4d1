package nodeclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// node is a loopback HTTP server answering a few routes like a node.
func node(t *testing.T, got *[]string) *httptest.Server {
	mux := http.NewServeMux()
	record := func(r *http.Request) string {
		b, _ := io.ReadAll(r.Body)
		*got = append(*got, r.Method+" "+r.URL.RequestURI()+" "+string(b))
		return string(b)
	}
	mux.HandleFunc("GET /cryptarchia/info", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, `{"lib":"aa","tip":"bb","slot":7,"height":5,"mode":"Online"}`)
	})
	mux.HandleFunc("GET /cryptarchia/headers", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, `["bb","aa"]`)
	})
	mux.HandleFunc("POST /storage/block", func(w http.ResponseWriter, r *http.Request) {
		if record(r) == `"unknown"` {
			io.WriteString(w, "null")
			return
		}
		io.WriteString(w, `{"header":{"version":"Bedrock","parent_block":"aa","slot":7,"block_root":"cc","proof_of_leadership":{}},"signature":[1,2],
		"transactions":[{"mantle_tx":{"ops":[{"opcode":1,"payload":{"channel":"ch","session":0,"blob":[`+strings.Repeat("9,", 31)+`9],"blob_size":31,"da_storage_gas_price":0,"parent":"p","signer":"s"}}],
		"ledger_tx":{"inputs":[],"outputs":[{"value":3,"pk":"k"}]},"execution_gas_price":0,"storage_gas_price":0},"ops_proofs":["NoProof"],"ledger_tx_proof":{"pi_a":[]}}]}`)
	})
	mux.HandleFunc("POST /mempool/add/tx", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		http.Error(w, "double spend", http.StatusInternalServerError)
	})
	mux.HandleFunc("POST /mantle/status", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, `["Pending",{"InBlock":{"block":"bb"}}]`)
	})
	mux.HandleFunc("POST /disperse-data", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, "["+strings.Repeat("1,", 31)+"2]")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, "up 1\n")
	})
	mux.HandleFunc("POST /test/da/membership", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, `{"assignations":{"0":["p1"]},"addressbook":{}}`)
	})
	for _, p := range []string{nodeapi.PathBlockPeers, nodeapi.PathUnblockPeers, nodeapi.PathLinkFault, nodeapi.PathClockOffset} {
		mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) {
			record(r)
			io.WriteString(w, "null")
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPClient(t *testing.T) {
	var got []string
	srv := node(t, &got)
	c := NewHTTP(srv.URL+"/", srv.URL, nil)
	ctx := context.Background()

	in, err := c.Info(ctx)
	if err != nil || in != (nodeapi.Info{LIB: "aa", Tip: "bb", Slot: 7, Height: 5, Mode: "Online"}) {
		t.Errorf("Info = %+v, %v", in, err)
	}
	ids, err := c.Headers(ctx, "bb", "")
	if err != nil || strings.Join(ids, ",") != "bb,aa" {
		t.Errorf("Headers = %v, %v", ids, err)
	}
	b, err := c.Block(ctx, "bb")
	if err != nil || b.Header.Parent != "aa" || len(b.Transactions) != 1 {
		t.Fatalf("Block = %+v, %v", b, err)
	}
	blob, ok := b.Transactions[0].MantleTx.Ops[0].Blob()
	if !ok || blob.Blob[0] != 9 || blob.Channel != "ch" || b.Transactions[0].MantleTx.LedgerTx.Outputs[0].PK != "k" {
		t.Errorf("blob op = %+v (%v)", blob, ok)
	}
	if b, err := c.Block(ctx, "unknown"); b != nil || err != nil {
		t.Errorf("unknown block = %v, %v; want nil, nil", b, err)
	}
	err = c.AddTx(ctx, b.Transactions[0])
	var se *nodeapi.StatusError
	if !errors.As(err, &se) || se.Code != 500 || err.Error() != "POST /mempool/add/tx: HTTP 500: double spend" {
		t.Errorf("AddTx err = %v", err)
	}
	st, err := c.TxStatus(ctx, []string{"h1", "h2"})
	if err != nil || len(st) != 2 || st[0].State != "Pending" || st[1] != (nodeapi.TxStatus{State: "InBlock", Block: "bb"}) {
		t.Errorf("TxStatus = %+v, %v", st, err)
	}
	id, err := c.DisperseData(ctx, nodeapi.DispersalRequest{ChannelID: "ch", Data: nodeapi.Bytes{1, 2}})
	if err != nil || id[0] != 1 || id[31] != 2 {
		t.Errorf("DisperseData = %v, %v", id, err)
	}
	if m, err := c.Metrics(ctx); err != nil || m != "up 1\n" {
		t.Errorf("Metrics = %q, %v", m, err)
	}
	if m, err := c.DAMembership(ctx, 0); err != nil || len(m.Assignations["0"]) != 1 {
		t.Errorf("DAMembership = %+v, %v", m, err)
	}
	c.BlockPeers(ctx, []string{"p1"})
	c.SetLinkFault(ctx, nodeapi.LinkFault{Peers: []string{"p1"}, DelayMS: 100, Loss: 0.5})
	c.SetClockOffset(ctx, -1500*time.Millisecond)

	want := []string{
		"POST /storage/block \"bb\"",
		"GET /cryptarchia/headers?from=bb ",
		"POST /test/da/membership 0",
		`POST /test/network/block-peers ["p1"]`,
		`POST /test/network/link-fault {"peers":["p1"],"delay_ms":100,"jitter_ms":0,"loss":0.5}`,
		`POST /test/clock/offset {"offset_ms":-1500}`,
		`POST /disperse-data {"channel_id":"ch","parent_msg_id":"","signer":"","data":[1,2]}`,
	}
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("requests lack %q:\n%s", w, all)
		}
	}

	noTesting := NewHTTP(srv.URL, "", nil)
	if err := noTesting.BlockPeers(ctx, nil); !errors.Is(err, nodeapi.ErrNoTestingAPI) {
		t.Errorf("no testing API: %v", err)
	}
}
