package host

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// defaultConfigWriter generates reference-node configs with the shared
// generator: every node listens and is dialled on 127.0.0.1 at its own
// ports, and keeps its database in its data directory.
func defaultConfigWriter(spec ConfigSpec) ([]string, error) {
	topo := spec.Plan.Topology
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
		ChainStart: spec.ChainStart, Wallets: spec.Plan.Wallets.Count, WalletFunds: spec.Plan.Wallets.Funds,
		Seed: uint64(spec.Plan.Seed), KZGParamsPath: os.Getenv("NOMOS_KZGRS_PARAMS_PATH"),
	}
	for _, i := range order {
		p := spec.Ports[i]
		cs.Addrs = append(cs.Addrs, config.NodeAddrs{
			API: loopback(p.API), Testing: loopback(p.Testing), P2PListen: loopback(p.P2P), P2PDial: loopback(p.P2P),
		})
		cs.DataDirs = append(cs.DataDirs, spec.DataDirs[i])
	}
	cfgs, err := config.Generate(cs)
	if err != nil {
		return nil, err
	}
	byName := map[string]*config.NodeConfig{}
	for i := range cfgs {
		byName[cfgs[i].Node.Name] = &cfgs[i]
	}
	paths := make([]string, len(topo.Nodes))
	for i, n := range topo.Nodes {
		cfg, ok := byName[n.Name]
		if !ok {
			return nil, fmt.Errorf("the generator made no config for %s", n.Name)
		}
		paths[i] = filepath.Join(spec.ConfigDir, n.Name+".yaml")
		if err := config.Write(paths[i], cfg); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", n.Name, err)
		}
	}
	return paths, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
