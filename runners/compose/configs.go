package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// Ports every node listens on inside its container. Each container has its
// own address, so they are the same for all nodes.
const (
	containerAPIPort     = 8080
	containerTestingPort = 8081
	containerP2PPort     = 3000
)

// p2pAlias is the name a node has on the peer-to-peer network only, so
// peers can reach each other by name there and nowhere else.
func p2pAlias(node string) string { return "p2p-" + node }

// writeConfigs generates one reference-node config per node into
// configDir/<node>/node.yaml (mounted read-only at nodeimage.ConfigDir), and
// returns the directories in topology order. Nodes listen on all addresses
// of their container and dial each other by their peer-to-peer alias.
func writeConfigs(spec deployInput, configDir string) ([]string, error) {
	topo := spec.plan.Topology
	// The generator numbers validators first, then executors.
	order := make([]int, len(topo.Nodes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		na, nb := topo.Nodes[order[a]], topo.Nodes[order[b]]
		if (na.Role == plan.RoleValidator) != (nb.Role == plan.RoleValidator) {
			return na.Role == plan.RoleValidator
		}
		return na.Index < nb.Index
	})
	cs := config.ClusterSpec{
		Validators: topo.Validators, Executors: topo.Executors, Network: topo.Network,
		SlotDuration: topo.Slot.Std(), ActiveSlotCoeff: topo.ActiveSlotCoeff, SecurityParam: topo.SecurityParam,
		ChainStart: spec.chainStart, Wallets: spec.plan.Wallets.Count, WalletFunds: spec.plan.Wallets.Funds,
		Seed: uint64(spec.plan.Seed), KZGParamsPath: nodeimage.ParamsPath,
	}
	for _, i := range order {
		name := topo.Nodes[i].Name
		cs.Addrs = append(cs.Addrs, config.NodeAddrs{
			API:       fmt.Sprintf("0.0.0.0:%d", containerAPIPort),
			Testing:   fmt.Sprintf("0.0.0.0:%d", containerTestingPort),
			P2PListen: fmt.Sprintf("0.0.0.0:%d", containerP2PPort),
			P2PDial:   fmt.Sprintf("%s:%d", p2pAlias(name), containerP2PPort),
		})
		cs.DataDirs = append(cs.DataDirs, nodeimage.DataDir)
	}
	cfgs, err := config.Generate(cs)
	if err != nil {
		return nil, err
	}
	byName := map[string]*config.NodeConfig{}
	for i := range cfgs {
		byName[cfgs[i].Node.Name] = &cfgs[i]
	}
	dirs := make([]string, len(topo.Nodes))
	for i, n := range topo.Nodes {
		cfg, ok := byName[n.Name]
		if !ok {
			return nil, fmt.Errorf("the generator made no config for %s", n.Name)
		}
		dirs[i] = filepath.Join(configDir, n.Name)
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			return nil, err
		}
		if err := config.Write(filepath.Join(dirs[i], filepath.Base(nodeimage.ConfigPath)), cfg); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", n.Name, err)
		}
	}
	return dirs, nil
}
