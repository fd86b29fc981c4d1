package k8s

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners/nodeconfig"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// nodeConfigs generates every node's config, in topology order. Nodes listen
// on all interfaces of their pod at the fixed ports; peers dial dialHosts[i]
// (a Service ClusterIP, or a DNS name for hand-applied manifests). Each config
// is also written to configDir/<node>.yaml when configDir is set.
func nodeConfigs(p *plan.Plan, chainStart time.Time, dialHosts []string, configDir string) ([]string, error) {
	all := func(port int) string { return net.JoinHostPort("0.0.0.0", strconv.Itoa(port)) }
	cfgs, err := nodeconfig.Generate(nodeconfig.Spec{
		Plan: p, ChainStart: chainStart,
		Place: func(i int, _ plan.Node) nodeconfig.Placement {
			return nodeconfig.Placement{
				Addrs: config.NodeAddrs{
					API: all(portAPI), Testing: all(portTesting), P2PListen: all(portP2P),
					P2PDial: net.JoinHostPort(dialHosts[i], strconv.Itoa(portP2P)),
				},
				DataDir: dataDir,
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("generate node configs: %w", err)
	}
	if configDir != "" {
		if err := os.MkdirAll(configDir, 0o755); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(cfgs))
	for i, cfg := range cfgs {
		b, err := config.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("config of %s: %w", cfg.Node.Name, err)
		}
		out[i] = string(bytes.TrimSpace(b)) + "\n"
		if configDir != "" {
			if err := os.WriteFile(filepath.Join(configDir, cfg.Node.Name+".yaml"), []byte(out[i]), 0o644); err != nil {
				return nil, fmt.Errorf("write config of %s: %w", cfg.Node.Name, err)
			}
		}
	}
	return out, nil
}
