package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/api"
	"github.com/nomosrun/nomosrun/simnode/config"
	"github.com/nomosrun/nomosrun/simnode/node"
)

// testNode is a real node (storage, chain, mempool) without its network,
// served on loopback test servers.
func testNode(t testing.TB, role string) (main, testing *httptest.Server, n *node.Node) {
	return testNodeLog(t, role, io.Discard)
}

func testNodeLog(t testing.TB, role string, w io.Writer) (main, testing *httptest.Server, n *node.Node) {
	dir := t.TempDir()
	spec := config.ClusterSpec{Validators: 1, Executors: 1, SlotDuration: time.Second, ActiveSlotCoeff: 0.9,
		SecurityParam: 3, ChainStart: time.Now(), Wallets: 2, WalletFunds: 100, Seed: 3}
	for i := range 2 {
		spec.Addrs = append(spec.Addrs, config.NodeAddrs{API: "127.0.0.1:1", Testing: "127.0.0.1:2", P2PListen: "127.0.0.1:3", P2PDial: "127.0.0.1:3"})
		spec.DataDirs = append(spec.DataDirs, filepath.Join(dir, string(rune('a'+i))))
	}
	cfgs, err := config.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &cfgs[0]
	if role == config.RoleExecutor {
		cfg = &cfgs[1]
	}
	log := slog.New(slog.NewTextHandler(w, nil))
	n, err = node.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	main = httptest.NewServer(api.Main(n, n.DA(), log))
	testing = httptest.NewServer(api.Testing(n, n.DA(), log))
	t.Cleanup(main.Close)
	t.Cleanup(testing.Close)
	return main, testing, n
}

func call(t testing.TB, method, url, ctype, body string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// keys lists the keys of a JSON object.
func keys(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

var hex64 = regexp.MustCompile(`^"[0-9a-f]{64}"$`)

func intArray(t testing.TB, raw json.RawMessage, n int) {
	t.Helper()
	var ints []int
	if err := json.Unmarshal(raw, &ints); err != nil || len(ints) != n {
		t.Errorf("want an array of %d ints, got %.80s", n, raw)
	}
}

func TestShapes(t *testing.T) {
	srv, tsrv, _ := testNode(t, config.RoleValidator)
	code, body, hdr := call(t, "GET", srv.URL+"/cryptarchia/info", "", "")
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("info: %d %s", code, body)
	}
	var info map[string]json.RawMessage
	json.Unmarshal([]byte(body), &info)
	if got := keys(t, json.RawMessage(body)); got != "height,lib,mode,slot,tip" {
		t.Errorf("info keys %s", got)
	}
	if !hex64.Match(info["tip"]) || !hex64.Match(info["lib"]) || string(info["mode"]) != `"Bootstrapping"` || string(info["height"]) != "0" {
		t.Errorf("info %s", body)
	}
	tip := strings.Trim(string(info["tip"]), `"`)

	code, body, _ = call(t, "GET", srv.URL+"/cryptarchia/headers?from=0x"+tip, "", "")
	if code != 200 || body != `["`+tip+`"]` {
		t.Errorf("headers: %d %s", code, body)
	}
	if code, _, _ = call(t, "GET", srv.URL+"/cryptarchia/headers?from=zz", "", ""); code != 400 {
		t.Errorf("bad from: %d", code)
	}

	code, body, _ = call(t, "POST", srv.URL+"/storage/block", "application/json", `"`+tip+`"`)
	if code != 200 {
		t.Fatalf("block: %d %s", code, body)
	}
	var blk struct {
		Header       json.RawMessage   `json:"header"`
		Signature    json.RawMessage   `json:"signature"`
		Transactions []json.RawMessage `json:"transactions"`
	}
	json.Unmarshal([]byte(body), &blk)
	if got := keys(t, json.RawMessage(body)); got != "header,signature,transactions" {
		t.Errorf("block keys %s", got)
	}
	if got := keys(t, blk.Header); got != "block_root,parent_block,proof_of_leadership,slot,version" {
		t.Errorf("header keys %s", got)
	}
	var hdrm map[string]json.RawMessage
	json.Unmarshal(blk.Header, &hdrm)
	if string(hdrm["version"]) != `"Bedrock"` || string(hdrm["parent_block"]) != `"`+strings.Repeat("0", 64)+`"` || string(hdrm["slot"]) != "0" {
		t.Errorf("genesis header %s", blk.Header)
	}
	if got := keys(t, hdrm["proof_of_leadership"]); got != "entropy_contribution,leader_key,proof,voucher_cm" {
		t.Errorf("proof keys %s", got)
	}
	var pol map[string]json.RawMessage
	json.Unmarshal(hdrm["proof_of_leadership"], &pol)
	intArray(t, pol["proof"], 128)
	intArray(t, blk.Signature, 64)
	if len(blk.Transactions) != 1 || keys(t, blk.Transactions[0]) != "ledger_tx_proof,mantle_tx,ops_proofs" {
		t.Fatalf("genesis txs %s", body)
	}
	var tx map[string]json.RawMessage
	json.Unmarshal(blk.Transactions[0], &tx)
	if keys(t, tx["mantle_tx"]) != "execution_gas_price,ledger_tx,ops,storage_gas_price" || string(tx["ops_proofs"]) != `["NoProof"]` ||
		keys(t, tx["ledger_tx_proof"]) != "pi_a,pi_b,pi_c" {
		t.Errorf("genesis tx %s", blk.Transactions[0])
	}
	if code, body, _ = call(t, "POST", srv.URL+"/storage/block", "application/json", `"`+strings.Repeat("1", 64)+`"`); code != 200 || body != "null" {
		t.Errorf("unknown block: %d %s", code, body)
	}

	code, body, _ = call(t, "GET", srv.URL+"/mantle/metrics", "", "")
	if code != 200 || keys(t, json.RawMessage(body)) != "last_item_timestamp,pending_items" {
		t.Errorf("mantle metrics %d %s", code, body)
	}
	code, body, _ = call(t, "GET", srv.URL+"/network/info", "", "")
	if code != 200 || keys(t, json.RawMessage(body)) != "listen_addresses,n_connections,n_peers,n_pending_connections" {
		t.Errorf("network info %d %s", code, body)
	}
	code, body, _ = call(t, "GET", srv.URL+"/metrics", "", "")
	if code != 200 || !strings.Contains(body, "cryptarchia_tip_height 0") || !strings.Contains(body, "cryptarchia_lib_height") {
		t.Errorf("metrics %d %.300s", code, body)
	}

	// Testing API: clock offset read-back and DA membership.
	if code, body, _ = call(t, "POST", tsrv.URL+nodeapi.PathClockOffset, "application/json", `{"offset_ms":1500}`); code != 200 || body != "null" {
		t.Errorf("clock offset %d %s", code, body)
	}
	code, body, _ = call(t, "GET", tsrv.URL+nodeapi.PathFaults, "", "")
	if code != 200 || !strings.Contains(body, `"clock_offset_ms":1500`) {
		t.Errorf("faults %d %s", code, body)
	}
	code, body, _ = call(t, "POST", tsrv.URL+"/test/da/membership", "application/json", `0`)
	var m nodeapi.Membership
	if json.Unmarshal([]byte(body), &m); code != 200 || len(m.Assignations) != 2 || len(m.Addressbook) != 2 {
		t.Errorf("membership %d %s", code, body)
	}
	if code, body, _ = call(t, "POST", tsrv.URL+"/test/da/membership", "application/json", `5`); body != `{"assignations":{},"addressbook":{}}` {
		t.Errorf("unknown session %d %s", code, body)
	}
	if code, _, _ = call(t, "POST", tsrv.URL+nodeapi.PathBlockPeers, "application/json", `["validator-0"]`); code != 422 {
		t.Errorf("block peers without network: %d", code)
	}
}

func TestMempoolAndStatus(t *testing.T) {
	srv, _, n := testNode(t, config.RoleValidator)
	genesis, err := nodeapi.NewClient(srv.URL, "", nil).Block(context.Background(), n.Info().Tip)
	if err != nil {
		t.Fatal(err)
	}
	key := txcodec.WalletKey(3, 0)
	notes := txcodec.OwnedNotes(genesis, txcodec.PublicKey(key))
	tx, err := txcodec.Transfer(key, notes, txcodec.PublicKey(txcodec.WalletKey(3, 1)), 10)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(tx)
	for _, tc := range []struct {
		ctype, body string
		code        int
	}{
		{"", string(body), 415},
		{"text/plain", string(body), 415},
		{"application/json", `{"mantle_tx":`, 400},
		{"application/json", `{"mantle_tx":{"ops":5}}`, 422},
		{"application/json", `{"mantle_tx":{"ops":[],"ledger_tx":{"inputs":["xyz"]}}}`, 422},
		{"application/json", string(body), 200},
	} {
		if code, resp, _ := call(t, "POST", srv.URL+"/mempool/add/tx", tc.ctype, tc.body); code != tc.code {
			t.Errorf("add tx %q: %d %s, want %d", tc.body[:min(30, len(tc.body))], code, resp, tc.code)
		}
	}
	h := txcodec.TxHash(&tx).String()
	code, resp, _ := call(t, "POST", srv.URL+"/mantle/status", "application/json", `["`+h+`","`+strings.Repeat("ab", 32)+`"]`)
	if code != 200 || resp != `["Pending","Unknown"]` {
		t.Errorf("status %d %s", code, resp)
	}
	st := nodeapi.TxStatus{State: nodeapi.TxInBlock, Block: nodeapi.Hash{1}.String()}
	b, _ := json.Marshal(st)
	if string(b) != `{"InBlock":{"block":"01`+strings.Repeat("0", 62)+`"}}` {
		t.Errorf("InBlock form %s", b)
	}
	_, resp, _ = call(t, "GET", srv.URL+"/mantle/metrics", "", "")
	if !strings.Contains(resp, `"pending_items":1`) {
		t.Errorf("mantle metrics %s", resp)
	}
}

func TestLibStreamHeaders(t *testing.T) {
	srv, _, _ := testNode(t, config.RoleValidator)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/cryptarchia/lib-stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("lib-stream %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	exe, _, _ := testNode(t, config.RoleExecutor)
	if code, _, _ := call(t, "GET", exe.URL+"/cryptarchia/lib-stream", "", ""); code != 404 {
		t.Errorf("executor lib-stream: %d, want 404", code)
	}
}

func TestBugsRoute(t *testing.T) {
	_, tsrv, _ := testNode(t, config.RoleValidator)
	get := func() nodeapi.Bugs {
		t.Helper()
		code, body, _ := call(t, "GET", tsrv.URL+nodeapi.PathBugs, "", "")
		var b nodeapi.Bugs
		if err := json.Unmarshal([]byte(body), &b); code != 200 || err != nil {
			t.Fatalf("GET bugs: %d %s %v", code, body, err)
		}
		return b
	}
	want := func(on ...string) {
		t.Helper()
		b := get()
		if len(b) != len(nodeapi.BugNames()) {
			t.Errorf("GET bugs %v: want every name of %v", b, nodeapi.BugNames())
		}
		for _, name := range nodeapi.BugNames() {
			v, ok := b[name]
			if !ok || v != slices.Contains(on, name) {
				t.Errorf("bug %s: %v (listed %v), want on = %v", name, v, ok, slices.Contains(on, name))
			}
		}
	}
	want()
	post := func(body string, code int) string {
		t.Helper()
		got, resp, _ := call(t, "POST", tsrv.URL+nodeapi.PathBugs, "application/json", body)
		if got != code {
			t.Errorf("POST bugs %s: %d %s, want %d", body, got, resp, code)
		}
		return resp
	}
	post(`{"stop_proposing":true}`, 200)
	want(nodeapi.BugStopProposing)
	// A post merges into the current set.
	post(`{"drop_transactions":true,"revert_finalized":false}`, 200)
	want(nodeapi.BugStopProposing, nodeapi.BugDropTransactions)
	if resp := post(`{"stop_proposing":false}`, 200); !strings.Contains(resp, `"drop_transactions":true`) || !strings.Contains(resp, `"stop_proposing":false`) {
		t.Errorf("POST answer %s, want the whole set", resp)
	}
	want(nodeapi.BugDropTransactions)
	post(`{}`, 200)
	want(nodeapi.BugDropTransactions)
	// An unknown name is refused with the known names, and nothing changes.
	resp := post(`{"drop_da_shares":true,"fly":true}`, 400)
	for _, name := range append([]string{"fly"}, nodeapi.BugNames()...) {
		if !strings.Contains(resp, name) {
			t.Errorf("unknown-name answer %q lacks %q", resp, name)
		}
	}
	want(nodeapi.BugDropTransactions)
	post(`{"stop_proposing":true`, 400)
	post(`["stop_proposing"]`, 422)
	post(`{"stop_proposing":"yes"}`, 422)
	if code, _, _ := call(t, "POST", tsrv.URL+nodeapi.PathBugs, "text/plain", `{"stop_proposing":true}`); code != 415 {
		t.Errorf("POST bugs without a JSON content type: %d, want 415", code)
	}
	want(nodeapi.BugDropTransactions)
	// The fault read-back lists the active bugs.
	code, body, _ := call(t, "GET", tsrv.URL+nodeapi.PathFaults, "", "")
	if code != 200 || !strings.Contains(body, `"bugs":["drop_transactions"]`) {
		t.Errorf("faults %d %s", code, body)
	}

	// The typed client.
	c := nodeapi.NewClient(tsrv.URL, tsrv.URL, nil)
	if err := c.SetBugs(context.Background(), map[string]bool{nodeapi.BugStopApplying: true, nodeapi.BugDropTransactions: false}); err != nil {
		t.Fatal(err)
	}
	b, err := c.Bugs(context.Background())
	if err != nil || !b[nodeapi.BugStopApplying] || b[nodeapi.BugDropTransactions] || len(b) != len(nodeapi.BugNames()) {
		t.Errorf("client Bugs %v %v", b, err)
	}
	var se *nodeapi.StatusError
	if err := c.SetBugs(context.Background(), map[string]bool{"nope": true}); !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("client SetBugs unknown: %v", err)
	}
	f, err := c.Faults(context.Background())
	if err != nil || strings.Join(f.Bugs, ",") != nodeapi.BugStopApplying {
		t.Errorf("faults read-back %+v %v", f, err)
	}
}

func TestDropTransactionsAcceptsAndDiscards(t *testing.T) {
	srv, tsrv, n := testNode(t, config.RoleValidator)
	genesis, err := nodeapi.NewClient(srv.URL, "", nil).Block(context.Background(), n.Info().Tip)
	if err != nil {
		t.Fatal(err)
	}
	key := txcodec.WalletKey(3, 0)
	tx, err := txcodec.Transfer(key, txcodec.OwnedNotes(genesis, txcodec.PublicKey(key)), txcodec.PublicKey(txcodec.WalletKey(3, 1)), 10)
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := call(t, "POST", tsrv.URL+nodeapi.PathBugs, "application/json", `{"drop_transactions":true}`); code != 200 {
		t.Fatalf("set bug: %d %s", code, body)
	}
	body, _ := json.Marshal(tx)
	if code, resp, _ := call(t, "POST", srv.URL+"/mempool/add/tx", "application/json", string(body)); code != 200 || resp != "null" {
		t.Errorf("add tx with drop_transactions: %d %s, want 200 as usual", code, resp)
	}
	if st := n.TxStatus([]nodeapi.Hash{txcodec.TxHash(&tx)}); st[0].State != nodeapi.TxUnknown {
		t.Errorf("dropped tx status %+v, want Unknown", st[0])
	}
	if m := n.MantleMetrics(); m.PendingItems != 0 {
		t.Errorf("mempool holds %d items", m.PendingItems)
	}
	// An invalid tx still fails as usual.
	bad := tx
	bad.MantleTx.LedgerTx.Outputs[0].Value++
	if code, _, _ := call(t, "POST", srv.URL+"/mempool/add/tx", "application/json", mustJSON(t, bad)); code == 200 {
		t.Error("unbalanced tx accepted with drop_transactions")
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzHandlers(f *testing.F) {
	var logs syncBuffer
	srv, tsrv, _ := testNodeLog(f, config.RoleExecutor, &logs)
	routes := []string{"/storage/block", "/mempool/add/tx", "/mantle/status", "/disperse-data", "/da/get-commitments", "/da/add-share"}
	troutes := []string{nodeapi.PathBlockPeers, nodeapi.PathLinkFault, nodeapi.PathClockOffset, "/test/da/membership", nodeapi.PathBugs}
	f.Add(uint8(0), []byte(`"00"`))
	f.Add(uint8(1), []byte(`{"mantle_tx":{"ops":[{"opcode":0,"payload":{}}]},"ops_proofs":["NoProof"]}`))
	f.Add(uint8(2), []byte(`["zz"]`))
	f.Add(uint8(7), []byte(`{"peers":["x"],"loss":2}`))
	f.Fuzz(func(t *testing.T, r uint8, body []byte) {
		url := srv.URL + routes[int(r)%len(routes)]
		if int(r)%10 >= len(routes) {
			url = tsrv.URL + troutes[int(r)%len(troutes)]
		}
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if strings.Contains(logs.String(), "handler panic") {
			t.Fatalf("%s: handler panicked on %q", url, body)
		}
		switch resp.StatusCode {
		case 200, 400, 415, 422, 500:
		default:
			t.Errorf("%s: status %d", url, resp.StatusCode)
		}
	})
}

// syncBuffer is a log sink shared by handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
