package compose

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners/nodeconfig"
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
	cfgs, err := nodeconfig.Generate(nodeconfig.Spec{
		Plan: spec.plan, ChainStart: spec.chainStart, KZGParamsPath: nodeimage.ParamsPath,
		Place: func(_ int, n plan.Node) nodeconfig.Placement {
			return nodeconfig.Placement{
				Addrs: config.NodeAddrs{
					API:       fmt.Sprintf("0.0.0.0:%d", containerAPIPort),
					Testing:   fmt.Sprintf("0.0.0.0:%d", containerTestingPort),
					P2PListen: fmt.Sprintf("0.0.0.0:%d", containerP2PPort),
					P2PDial:   fmt.Sprintf("%s:%d", p2pAlias(n.Name), containerP2PPort),
				},
				DataDir: nodeimage.DataDir,
			}
		},
	})
	if err != nil {
		return nil, err
	}
	dirs := make([]string, len(cfgs))
	for i, cfg := range cfgs {
		dirs[i] = filepath.Join(configDir, cfg.Node.Name)
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			return nil, err
		}
		if err := config.Write(filepath.Join(dirs[i], filepath.Base(nodeimage.ConfigPath)), cfg); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", cfg.Node.Name, err)
		}
	}
	return dirs, nil
}
