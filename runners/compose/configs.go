package compose

import (
	"fmt"
	"path/filepath"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
)

// Ports every node listens on inside its container. Each container has its
// own address, so they are the same for all nodes.
const (
	containerAPIPort     = nodekind.ContainerAPIPort
	containerTestingPort = nodekind.ContainerAuxPort
	containerP2PPort     = nodekind.ContainerP2PPort
)

// p2pAlias is the name a node has on the peer-to-peer network only, so
// peers can reach each other by name there and nowhere else.
func p2pAlias(node string) string { return "p2p-" + node }

// rendered is one node's config directory on this machine and its start.
type rendered struct {
	dir    string
	launch nodekind.Launch
}

// writeConfigs renders every node's files with the plan's node kind into
// configDir/<node>/ (mounted at nodeimage.ConfigDir), in topology order.
// Nodes listen on all addresses of their container and dial each other by
// their peer-to-peer alias.
func writeConfigs(spec deployInput, configDir string) ([]rendered, error) {
	kind, err := nodekind.Get(spec.plan.Topology.Node)
	if err != nil {
		return nil, err
	}
	launches, err := kind.Render(nodekind.RenderSpec{
		Plan: spec.plan, ChainStart: spec.chainStart, KZGParamsPath: nodeimage.ParamsPath,
		Place: func(_ int, n plan.Node) nodekind.Placement {
			return nodekind.Placement{
				API:       fmt.Sprintf("0.0.0.0:%d", containerAPIPort),
				Aux:       fmt.Sprintf("0.0.0.0:%d", containerTestingPort),
				P2PListen: fmt.Sprintf("0.0.0.0:%d", containerP2PPort),
				P2PDial:   fmt.Sprintf("%s:%d", p2pAlias(n.Name), containerP2PPort),
				ConfigDir: nodeimage.ConfigDir,
				DataDir:   nodeimage.DataDir,
			}
		},
	})
	if err != nil {
		return nil, err
	}
	out := make([]rendered, len(launches))
	for i, l := range launches {
		name := spec.plan.Topology.Nodes[i].Name
		dir := filepath.Join(configDir, name)
		// Readable by the container's user, whoever it is.
		if err := l.WriteFiles(dir, 0o644); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", name, err)
		}
		out[i] = rendered{dir: dir, launch: l}
	}
	return out, nil
}
