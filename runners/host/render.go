package host

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
)

// renderConfigs writes every node's files as the plan's node kind renders
// them, each node's into ConfigDir/<node>/: nodes listen and are dialled
// at their address and ports, and keep their database in their data
// directory. It returns each node's arguments.
func renderConfigs(spec ConfigSpec) ([][]string, error) {
	kind, err := nodekind.Get(spec.Plan.Topology.Node)
	if err != nil {
		return nil, err
	}
	dirs := make([]string, len(spec.Plan.Topology.Nodes))
	launches, err := kind.Render(nodekind.RenderSpec{
		Plan: spec.Plan, ChainStart: spec.ChainStart, KZGParamsPath: env.KZGParams.Get(),
		Place: func(i int, n plan.Node) nodekind.Placement {
			p, h := spec.Ports[i], hostOf(spec, i)
			dirs[i] = filepath.Join(spec.ConfigDir, n.Name)
			return nodekind.Placement{
				API: hostPort(h, p.API), Aux: hostPort(h, p.Testing), P2PListen: hostPort(h, p.P2P), P2PDial: hostPort(h, p.P2P),
				ConfigDir: dirs[i], DataDir: spec.DataDirs[i],
			}
		},
	})
	if err != nil {
		return nil, err
	}
	args := make([][]string, len(launches))
	for i, l := range launches {
		if err := l.WriteFiles(dirs[i], 0o600); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", spec.Plan.Topology.Nodes[i].Name, err)
		}
		args[i] = l.Args
	}
	return args, nil
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// hostOf is node i's address; 127.0.0.1 when the spec names none.
func hostOf(spec ConfigSpec, i int) string {
	if i < len(spec.Hosts) && spec.Hosts[i] != "" {
		return spec.Hosts[i]
	}
	return "127.0.0.1"
}
