package reference

import (
	"fmt"
	"sort"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// Placement is where one node runs, as its runner chose it.
type Placement struct {
	// Addrs are the node's listen addresses and the address peers dial.
	Addrs config.NodeAddrs
	// DataDir is the node's database directory as the node sees it.
	DataDir string
}

// Spec is what the generator needs besides the plan.
type Spec struct {
	Plan       *plan.Plan
	ChainStart time.Time
	// KZGParamsPath is the DA parameter file as the nodes see it; empty
	// means the node's default.
	KZGParamsPath string
	// Place returns the placement of the i-th node of the topology.
	Place func(i int, n plan.Node) Placement
}

// Generate returns every node's config in topology order, derived with
// the shared generator (simnode/config), so every runner derives keys, peers
// and genesis the same way and differs only in where its nodes listen, how
// peers dial them and where they keep their data.
func Generate(s Spec) ([]*config.NodeConfig, error) {
	topo := s.Plan.Topology
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
		ChainStart: s.ChainStart, Wallets: s.Plan.Wallets.Count, WalletFunds: s.Plan.Wallets.Funds,
		Seed: uint64(s.Plan.Seed), KZGParamsPath: s.KZGParamsPath,
	}
	for _, i := range order {
		p := s.Place(i, topo.Nodes[i])
		cs.Addrs = append(cs.Addrs, p.Addrs)
		cs.DataDirs = append(cs.DataDirs, p.DataDir)
	}
	cfgs, err := config.Generate(cs)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*config.NodeConfig, len(cfgs))
	for i := range cfgs {
		byName[cfgs[i].Node.Name] = &cfgs[i]
	}
	out := make([]*config.NodeConfig, len(topo.Nodes))
	for i, n := range topo.Nodes {
		cfg, ok := byName[n.Name]
		if !ok {
			return nil, fmt.Errorf("the config generator made no config for %s", n.Name)
		}
		out[i] = cfg
	}
	return out, nil
}
