package cometbft

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodekind"
)

func testPlan(n int, network string) *plan.Plan {
	p := &plan.Plan{Seed: 7, Topology: plan.Topology{Node: Name, Validators: n, Network: network, Slot: plan.Duration(700 * time.Millisecond)}}
	for i := range n {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	return p
}

func renderPlan(t *testing.T, p *plan.Plan) []nodekind.Launch {
	t.Helper()
	ls, err := Kind{}.Render(nodekind.RenderSpec{Plan: p, ChainStart: time.Unix(1_800_000_000, 0),
		Place: func(i int, n plan.Node) nodekind.Placement {
			return nodekind.Placement{
				API: fmt.Sprintf("10.0.0.%d:80", i), Aux: fmt.Sprintf("10.0.0.%d:81", i),
				P2PListen: "0.0.0.0:3000", P2PDial: n.Name + ":3000",
				ConfigDir: "/homes/" + n.Name, DataDir: "/data/" + n.Name,
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != len(p.Topology.Nodes) {
		t.Fatalf("%d launches for %d nodes", len(ls), len(p.Topology.Nodes))
	}
	return ls
}

func TestRenderMakesAHomePerNode(t *testing.T) {
	p := testPlan(3, plan.NetworkStar)
	ls := renderPlan(t, p)
	var genesis struct {
		ChainID    string `json:"chain_id"`
		Time       string `json:"genesis_time"`
		Validators []struct {
			Address string `json:"address"`
			PubKey  struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"pub_key"`
			Power string `json:"power"`
			Name  string `json:"name"`
		} `json:"validators"`
	}
	if err := json.Unmarshal(ls[0].Files[genesisFile], &genesis); err != nil {
		t.Fatal(err)
	}
	if genesis.ChainID != "nomosrun-7" || genesis.Time != "2027-01-15T08:00:00Z" || len(genesis.Validators) != 3 {
		t.Fatalf("genesis = %+v", genesis)
	}
	for i, n := range p.Topology.Nodes {
		l := ls[i]
		if string(l.Files[genesisFile]) != string(ls[0].Files[genesisFile]) {
			t.Errorf("%s has another genesis", n.Name)
		}
		if strings.Join(l.Args, " ") != "start --home /homes/"+n.Name || !l.WritableConfig {
			t.Errorf("%s: args %v, writable %v", n.Name, l.Args, l.WritableConfig)
		}
		keys := KeysOf(p, n.Name)
		v := genesis.Validators[i]
		pub, _ := base64.StdEncoding.DecodeString(v.PubKey.Value)
		if v.Name != n.Name || v.Power != "10" || v.PubKey.Type != "tendermint/PubKeyEd25519" || string(pub) != string(keys.Validator.Public().(ed25519.PublicKey)) {
			t.Errorf("validator %d = %+v", i, v)
		}
		var privVal struct {
			Address string `json:"address"`
		}
		if err := json.Unmarshal(l.Files[privValFile], &privVal); err != nil || privVal.Address != v.Address {
			t.Errorf("%s: priv_validator_key address %q, genesis says %q (%v)", n.Name, privVal.Address, v.Address, err)
		}
		for _, f := range []string{configFile, nodeKeyFile, privStateFile} {
			if len(l.Files[f]) == 0 {
				t.Errorf("%s lacks %s", n.Name, f)
			}
		}
	}
}

func TestConfigFollowsPlacementAndLayout(t *testing.T) {
	for _, c := range []struct {
		network string
		peersOf map[int][]int
	}{
		{plan.NetworkStar, map[int][]int{0: nil, 1: {0}, 2: {0}, 3: {0}}},
		{plan.NetworkChain, map[int][]int{0: nil, 1: {0}, 2: {1}, 3: {2}}},
		{plan.NetworkFull, map[int][]int{0: nil, 1: {0}, 2: {0, 1}, 3: {0, 1, 2}}},
	} {
		p := testPlan(4, c.network)
		ls := renderPlan(t, p)
		for i := range ls {
			var cfg config
			if err := toml.Unmarshal(ls[i].Files[configFile], &cfg); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, j := range c.peersOf[i] {
				want = append(want, fmt.Sprintf("%s@validator-%d:3000", KeysOf(p, fmt.Sprintf("validator-%d", j)).NodeID(), j))
			}
			if cfg.P2P.PersistentPeers != strings.Join(want, ",") {
				t.Errorf("%s validator-%d peers %q, want %q", c.network, i, cfg.P2P.PersistentPeers, strings.Join(want, ","))
			}
			if cfg.RPC.ListenAddress != fmt.Sprintf("tcp://10.0.0.%d:80", i) || cfg.Instrumentation.ListenAddress != fmt.Sprintf("10.0.0.%d:81", i) ||
				cfg.P2P.ListenAddress != "tcp://0.0.0.0:3000" || cfg.P2P.ExternalAddress != fmt.Sprintf("validator-%d:3000", i) {
				t.Errorf("validator-%d addresses: rpc %s, prometheus %s, p2p %s (%s)", i, cfg.RPC.ListenAddress,
					cfg.Instrumentation.ListenAddress, cfg.P2P.ListenAddress, cfg.P2P.ExternalAddress)
			}
			if cfg.ProxyApp != "kvstore" || cfg.DBDir != fmt.Sprintf("/data/validator-%d", i) || cfg.Consensus.TimeoutCommit != "350ms" || cfg.Consensus.TimeoutPropose != "700ms" || cfg.TxIndex.Indexer != "kv" {
				t.Errorf("validator-%d config = %+v", i, cfg)
			}
		}
	}
}

func TestKeysAreTheSeeds(t *testing.T) {
	a, b := testPlan(1, plan.NetworkStar), testPlan(1, plan.NetworkStar)
	if KeysOf(a, "validator-0").NodeID() != KeysOf(b, "validator-0").NodeID() {
		t.Fatal("the same seed gave two node ids")
	}
	b.Seed++
	if KeysOf(a, "validator-0").NodeID() == KeysOf(b, "validator-0").NodeID() {
		t.Fatal("another seed gave the same node id")
	}
	if id := KeysOf(a, "validator-0").NodeID(); len(id) != 40 || id != strings.ToLower(id) {
		t.Fatalf("node id %q is not 20 bytes of lower-case hex", id)
	}
}
