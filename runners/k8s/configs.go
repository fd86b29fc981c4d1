package k8s

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// nodeConfigs generates every node's config, in topology order. Nodes listen
// on all interfaces of their pod at the fixed ports; peers dial dialHosts[i]
// (a Service ClusterIP, or a DNS name for hand-applied manifests). Each config
// is also written to configDir/<node>.yaml when configDir is set.
func nodeConfigs(p *plan.Plan, chainStart time.Time, dialHosts []string, configDir string) ([]string, error) {
	topo := p.Topology
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
		ChainStart: chainStart, Wallets: p.Wallets.Count, WalletFunds: p.Wallets.Funds, Seed: uint64(p.Seed),
	}
	all := func(port int) string { return net.JoinHostPort("0.0.0.0", strconv.Itoa(port)) }
	for _, i := range order {
		cs.Addrs = append(cs.Addrs, config.NodeAddrs{
			API: all(portAPI), Testing: all(portTesting), P2PListen: all(portP2P),
			P2PDial: net.JoinHostPort(dialHosts[i], strconv.Itoa(portP2P)),
		})
		cs.DataDirs = append(cs.DataDirs, dataDir)
	}
	cfgs, err := config.Generate(cs)
	if err != nil {
		return nil, fmt.Errorf("generate node configs: %w", err)
	}
	byName := map[string]*config.NodeConfig{}
	for i := range cfgs {
		byName[cfgs[i].Node.Name] = &cfgs[i]
	}
	if configDir != "" {
		if err := os.MkdirAll(configDir, 0o755); err != nil {
			return nil, err
		}
	} else {
		tmp, err := os.MkdirTemp("", "nomosrun-k8s-config")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		configDir = tmp
	}
	out := make([]string, len(topo.Nodes))
	for i, n := range topo.Nodes {
		cfg, ok := byName[n.Name]
		if !ok {
			return nil, fmt.Errorf("generate node configs: no config for %s", n.Name)
		}
		path := filepath.Join(configDir, n.Name+".yaml")
		if err := config.Write(path, cfg); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", n.Name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out[i] = string(bytes.TrimSpace(b)) + "\n"
	}
	return out, nil
}
