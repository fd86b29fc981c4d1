package run_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners/host"
)

// The host integration test runs this test binary as a stand-in node
// (envStandIn=1): real processes and real loopback HTTP, with a chain that
// is a pure function of time (block h has id sha256("blk/h"), one block per
// interval since the chain start), so every node agrees without talking to
// its peers. Fault hooks freeze the node's height until healed.
const envStandIn = "RUN_TEST_STAND_IN_NODE"

type standInConfig struct {
	Name       string     `json:"name"`
	Ports      host.Ports `json:"ports"`
	ChainStart int64      `json:"chain_start_unix_nano"`
	IntervalMS int64      `json:"interval_ms"`
	K          int        `json:"k"`
	Peers      int        `json:"peers"`
}

// standInConfigs writes the stand-in's config files (a host.ConfigWriter).
func standInConfigs(interval time.Duration, peers map[string]int) host.ConfigWriter {
	return func(spec host.ConfigSpec) ([][]string, error) {
		var args [][]string
		for i, n := range spec.Plan.Topology.Nodes {
			b, _ := json.Marshal(standInConfig{Name: n.Name, Ports: spec.Ports[i], ChainStart: spec.ChainStart.UnixNano(),
				IntervalMS: interval.Milliseconds(), K: spec.Plan.Topology.SecurityParam, Peers: peers[n.Name]})
			p := filepath.Join(spec.ConfigDir, n.Name+".json")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return nil, err
			}
			args = append(args, []string{"--config", p})
		}
		return args, nil
	}
}

func blockHash(h int) string {
	s := sha256.Sum256([]byte("blk/" + strconv.Itoa(h)))
	return hex.EncodeToString(s[:])
}

// standInMain runs the stand-in node and never returns.
func standInMain() {
	b, err := os.ReadFile(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Println("read config:", err)
		os.Exit(2)
	}
	var cfg standInConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		fmt.Println("parse config:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	blocked := map[string]bool{}
	frozen := -1
	height := func() int {
		mu.Lock()
		defer mu.Unlock()
		if frozen >= 0 {
			return frozen
		}
		return int(max(time.Since(time.Unix(0, cfg.ChainStart)), 0) / (time.Duration(cfg.IntervalMS) * time.Millisecond))
	}
	byID := map[string]int{}
	lookup := func(id string) (int, bool) {
		top := height()
		mu.Lock()
		defer mu.Unlock()
		for h := len(byID); h <= top; h++ {
			byID[blockHash(h)] = h
		}
		h, ok := byID[id]
		return h, ok && h <= top
	}
	js := func(w http.ResponseWriter, v any) { _ = json.NewEncoder(w).Encode(v) }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cryptarchia/info", func(w http.ResponseWriter, _ *http.Request) {
		h := height()
		js(w, nodeapi.Info{Tip: blockHash(h), LIB: blockHash(max(h-cfg.K, 0)), Slot: uint64(h), Height: uint64(h), Mode: "Online"})
	})
	mux.HandleFunc("GET /cryptarchia/headers", func(w http.ResponseWriter, r *http.Request) {
		top := height()
		if h, ok := lookup(r.URL.Query().Get("from")); ok && h < top {
			top = h
		}
		var ids []string
		for h := top; h >= max(top-cfg.K, 0); h-- {
			ids = append(ids, blockHash(h))
		}
		js(w, ids)
	})
	mux.HandleFunc("POST /storage/block", func(w http.ResponseWriter, r *http.Request) {
		var id string
		_ = json.NewDecoder(r.Body).Decode(&id)
		h, ok := lookup(id)
		if !ok {
			io.WriteString(w, "null")
			return
		}
		parent := nodeapi.GenesisParent
		if h > 0 {
			parent = blockHash(h - 1)
		}
		js(w, nodeapi.Block{Header: nodeapi.Header{Version: "Bedrock", Parent: parent, Slot: uint64(h)}, Transactions: []nodeapi.Tx{}})
	})
	mux.HandleFunc("GET /network/info", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n := cfg.Peers - len(blocked)
		mu.Unlock()
		js(w, nodeapi.NetworkInfo{PeerID: "peer-" + cfg.Name, NPeers: max(n, 0)})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE cryptarchia_tip_height gauge\ncryptarchia_tip_height %d\n", height())
	})
	peersHook := func(block bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var peers []string
			_ = json.NewDecoder(r.Body).Decode(&peers)
			h := height()
			mu.Lock()
			for _, p := range peers {
				if block {
					blocked[p] = true
				} else {
					delete(blocked, p)
				}
			}
			switch {
			case len(blocked) > 0 && frozen < 0:
				frozen = h
			case len(blocked) == 0:
				frozen = -1
			}
			mu.Unlock()
			fmt.Printf("%s peers %v blocked=%v\n", cfg.Name, peers, block)
			io.WriteString(w, "null")
		}
	}
	mux.HandleFunc("POST "+nodeapi.PathBlockPeers, peersHook(true))
	mux.HandleFunc("POST "+nodeapi.PathUnblockPeers, peersHook(false))
	for _, p := range []int{cfg.Ports.API, cfg.Ports.Testing} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		go func() { _ = http.Serve(l, mux) }()
	}
	fmt.Println(cfg.Name, "listening on", strings.Join([]string{strconv.Itoa(cfg.Ports.API), strconv.Itoa(cfg.Ports.Testing)}, ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	os.Exit(0)
}
