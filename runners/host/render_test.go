package host

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/simnode/config"
)

func TestRenderConfigsOfTheReferenceKind(t *testing.T) {
	p := testPlan(2, 1, 400*time.Millisecond)
	// Put the executor first to check configs follow topology order.
	p.Topology.Nodes = append(p.Topology.Nodes[2:], p.Topology.Nodes[:2]...)
	dir := t.TempDir()
	spec := ConfigSpec{Plan: p, ChainStart: time.Now(), ConfigDir: dir, LogDir: dir}
	for i, n := range p.Topology.Nodes {
		spec.Ports = append(spec.Ports, Ports{API: 20000 + 10*i, Testing: 20001 + 10*i, P2P: 20002 + 10*i})
		spec.DataDirs = append(spec.DataDirs, filepath.Join(dir, "data", n.Name))
	}
	args, err := renderConfigs(spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 3 {
		t.Fatalf("args = %v", args)
	}
	var paths []string
	for i, n := range p.Topology.Nodes {
		want := []string{"--config", filepath.Join(dir, n.Name, "node.yaml")}
		if strings.Join(args[i], " ") != strings.Join(want, " ") {
			t.Fatalf("args of %s = %v, want %v", n.Name, args[i], want)
		}
		paths = append(paths, want[1])
	}
	var hubAddr string
	for i, n := range p.Topology.Nodes {
		cfg, err := config.Load(paths[i])
		if err != nil {
			t.Fatalf("load %s: %v", paths[i], err)
		}
		if cfg.Node.Name != n.Name || cfg.Node.Role != string(n.Role) {
			t.Fatalf("config %d is %s/%s, want %s/%s", i, cfg.Node.Name, cfg.Node.Role, n.Name, n.Role)
		}
		if got, want := cfg.HTTP.BackendSettings.Address, fmt.Sprintf("127.0.0.1:%d", spec.Ports[i].API); got != want {
			t.Errorf("%s API address %s, want %s", n.Name, got, want)
		}
		if got, want := cfg.TestingHTTP.BackendSettings.Address, fmt.Sprintf("127.0.0.1:%d", spec.Ports[i].Testing); got != want {
			t.Errorf("%s testing address %s, want %s", n.Name, got, want)
		}
		if cfg.Network.Backend.Swarm.Host != "127.0.0.1" || cfg.Network.Backend.Swarm.Port != spec.Ports[i].P2P {
			t.Errorf("%s p2p listen %s:%d", n.Name, cfg.Network.Backend.Swarm.Host, cfg.Network.Backend.Swarm.Port)
		}
		if !strings.HasPrefix(cfg.Storage.DBPath, spec.DataDirs[i]) {
			t.Errorf("%s db %s outside its data dir %s", n.Name, cfg.Storage.DBPath, spec.DataDirs[i])
		}
		if time.Duration(cfg.Deployment.Time.SlotDuration) != 400*time.Millisecond {
			t.Errorf("%s slot %v", n.Name, time.Duration(cfg.Deployment.Time.SlotDuration))
		}
		if n.Name == "validator-0" {
			hubAddr = fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/", spec.Ports[i].P2P)
		}
	}
	// Star layout: everyone but validator-0 dials validator-0's p2p port.
	for i, n := range p.Topology.Nodes {
		cfg, _ := config.Load(paths[i])
		peers := cfg.Network.Backend.InitialPeers
		if n.Name == "validator-0" {
			if len(peers) != 0 {
				t.Errorf("hub dials %v", peers)
			}
			continue
		}
		if len(peers) != 1 || !strings.HasPrefix(peers[0], hubAddr) {
			t.Errorf("%s dials %v, want the hub at %s", n.Name, peers, hubAddr)
		}
	}

	p.Topology.Slot = plan.Duration(time.Millisecond)
	if _, err := renderConfigs(spec); err == nil || !strings.Contains(err.Error(), "slot duration") {
		t.Fatalf("bad slot: %v", err)
	}
}
