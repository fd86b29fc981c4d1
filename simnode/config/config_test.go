package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func spec(n int, layout string) ClusterSpec {
	s := ClusterSpec{Validators: n - 1, Executors: 1, Network: layout, SlotDuration: 100 * time.Millisecond,
		ActiveSlotCoeff: 0.9, SecurityParam: 5, ChainStart: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC),
		Wallets: 2, WalletFunds: 50, Seed: 42}
	for i := range n {
		s.Addrs = append(s.Addrs, NodeAddrs{API: "0.0.0.0:18080", Testing: "0.0.0.0:18081", P2PListen: "0.0.0.0:3000",
			P2PDial: NodeNameAt(s, i) + ":3000"})
		s.DataDirs = append(s.DataDirs, "/data")
	}
	return s
}

var timeEq = cmp.Comparer(func(a, b OffsetDateTime) bool { return time.Time(a).Equal(time.Time(b)) })

func NodeNameAt(s ClusterSpec, i int) string {
	if i < s.Validators {
		return NodeName(RoleValidator, i)
	}
	return NodeName(RoleExecutor, i-s.Validators)
}

func TestGenerateLayouts(t *testing.T) {
	for _, tc := range []struct {
		layout string
		peers  []int // initial peer count per node
	}{{LayoutStar, []int{0, 1, 1, 1}}, {LayoutChain, []int{0, 1, 1, 1}}, {LayoutFull, []int{0, 1, 2, 3}}} {
		cfgs, err := Generate(spec(4, tc.layout))
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cfgs {
			if len(c.Network.Backend.InitialPeers) != tc.peers[i] {
				t.Errorf("%s: node %d has %d peers, want %d", tc.layout, i, len(c.Network.Backend.InitialPeers), tc.peers[i])
			}
		}
		if tc.layout == LayoutChain && !strings.Contains(cfgs[3].Network.Backend.InitialPeers[0], "/dns4/validator-2/tcp/3000/p2p/") {
			t.Errorf("chain: node 3 dials %v", cfgs[3].Network.Backend.InitialPeers)
		}
		if tc.layout == LayoutStar && cfgs[2].Network.Backend.InitialPeers[0] != cfgs[0].Node.Cluster[0].Addr {
			t.Errorf("star: node 2 dials %v", cfgs[2].Network.Backend.InitialPeers)
		}
	}
	cfgs, _ := Generate(spec(4, LayoutStar))
	if cfgs[3].Node.Name != "executor-0" || cfgs[3].Node.Role != RoleExecutor || cfgs[3].Node.Index != 0 {
		t.Errorf("last node %+v", cfgs[3].Node)
	}
	again, _ := Generate(spec(4, LayoutStar))
	if diff := cmp.Diff(cfgs, again, timeEq); diff != "" {
		t.Errorf("generation is not deterministic:\n%s", diff)
	}
	if _, err := Generate(spec(4, "ring")); err == nil {
		t.Error("unknown layout accepted")
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	cfgs, err := Generate(spec(2, LayoutFull))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "n.yaml")
	if err := Write(p, &cfgs[1]); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&cfgs[1], got, timeEq); diff != "" {
		t.Errorf("round trip:\n%s", diff)
	}
	raw, _ := os.ReadFile(p)
	for _, want := range []string{"slot_duration: [0, 100000000]", "chain_start_time: [2026, 63, 5, 6, 7, 8, 0, 0, 0]", "initial_peers:", "backend_settings:"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("YAML lacks %q", want)
		}
	}
}

func TestLoadNamesTheBadKey(t *testing.T) {
	cfgs, _ := Generate(spec(2, LayoutFull))
	dir := t.TempDir()
	for key, mutate := range map[string]func(*NodeConfig){
		"http.backend_settings.address":                             func(c *NodeConfig) { c.HTTP.BackendSettings.Address = "" },
		"deployment.time.slot_duration":                             func(c *NodeConfig) { c.Deployment.Time.SlotDuration = 0 },
		"deployment.cryptarchia.consensus_config.active_slot_coeff": func(c *NodeConfig) { c.Deployment.Cryptarchia.ConsensusConfig.ActiveSlotCoeff = 1.5 },
		"storage.db_path":                                           func(c *NodeConfig) { c.Storage.DBPath = "" },
		"node.role":                                                 func(c *NodeConfig) { c.Node.Role = "miner" },
	} {
		c := cfgs[0]
		mutate(&c)
		p := filepath.Join(dir, "bad.yaml")
		if err := Write(p, &c); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v does not name the key", key, err)
		}
	}
	p := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(p, []byte("node: {name: a, role: validator}\nbogus: 1\n"), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestTestingSection(t *testing.T) {
	cfgs, err := Generate(spec(2, LayoutFull))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Marshal(&cfgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "testing:") || strings.Contains(string(raw), "rejoin_below_lib") {
		t.Errorf("generated config holds the testing section:\n%s", raw)
	}
	if cfgs[0].Testing.RejoinBelowLIB {
		t.Error("rejoin on by default")
	}
	on, err := Parse(append(raw, []byte("testing:\n  rejoin_below_lib: true\n")...))
	if err != nil || !on.Testing.RejoinBelowLIB {
		t.Errorf("testing.rejoin_below_lib: %v %+v", err, on.Testing)
	}
	if _, err := Parse(append(raw, []byte("testing:\n  rejoin: true\n")...)); err == nil || !strings.Contains(err.Error(), "rejoin") {
		t.Errorf("unknown testing key: %v", err)
	}
	sp := spec(2, LayoutFull)
	sp.RejoinBelowLIB = true
	if cfgs, err = Generate(sp); err != nil || !cfgs[0].Testing.RejoinBelowLIB || !cfgs[1].Testing.RejoinBelowLIB {
		t.Errorf("ClusterSpec.RejoinBelowLIB: %v", err)
	}
}
