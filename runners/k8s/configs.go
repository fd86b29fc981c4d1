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
	"github.com/nomosrun/nomosrun/nodekind"
)

// nodeConfigs renders every node's config with the plan's node kind, in
// topology order. Nodes listen on all interfaces of their pod at the fixed
// ports; peers dial dialHosts[i] (a Service ClusterIP, or a DNS name for
// hand-applied manifests). Each config is also written to
// writeDir/<node>.yaml when writeDir is set.
func nodeConfigs(p *plan.Plan, chainStart time.Time, dialHosts []string, writeDir string) ([]string, error) {
	kind, err := nodekind.Get(p.Topology.Node)
	if err != nil {
		return nil, err
	}
	all := func(port int) string { return net.JoinHostPort("0.0.0.0", strconv.Itoa(port)) }
	launches, err := kind.Render(nodekind.RenderSpec{
		Plan: p, ChainStart: chainStart,
		Place: func(i int, _ plan.Node) nodekind.Placement {
			return nodekind.Placement{
				API: all(portAPI), Aux: all(portTesting), P2PListen: all(portP2P),
				P2PDial:   net.JoinHostPort(dialHosts[i], strconv.Itoa(portP2P)),
				ConfigDir: configDir, DataDir: dataDir,
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("generate node configs: %w", err)
	}
	if writeDir != "" {
		if err := os.MkdirAll(writeDir, 0o755); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(launches))
	for i, l := range launches {
		name := p.Topology.Nodes[i].Name
		body, ok := l.Files[configFile]
		if !ok || len(l.Files) != 1 || l.WritableConfig {
			return nil, fmt.Errorf("the k8s runner runs nodes configured by one %s file; the %s node kind renders another layout", configFile, kind.Name())
		}
		out[i] = string(bytes.TrimSpace(body)) + "\n"
		if writeDir != "" {
			if err := os.WriteFile(filepath.Join(writeDir, name+".yaml"), []byte(out[i]), 0o644); err != nil {
				return nil, fmt.Errorf("write config of %s: %w", name, err)
			}
		}
	}
	return out, nil
}
