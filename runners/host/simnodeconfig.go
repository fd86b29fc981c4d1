package host

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/runners/nodeconfig"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// defaultConfigWriter generates reference-node configs with the shared
// generator: every node listens and is dialled at its address and ports,
// and keeps its database in its data directory.
func defaultConfigWriter(spec ConfigSpec) ([]string, error) {
	cfgs, err := nodeconfig.Generate(nodeconfig.Spec{
		Plan: spec.Plan, ChainStart: spec.ChainStart, KZGParamsPath: env.KZGParams.Get(),
		Place: func(i int, _ plan.Node) nodeconfig.Placement {
			p, h := spec.Ports[i], hostOf(spec, i)
			return nodeconfig.Placement{
				Addrs: config.NodeAddrs{
					API: hostPort(h, p.API), Testing: hostPort(h, p.Testing), P2PListen: hostPort(h, p.P2P), P2PDial: hostPort(h, p.P2P),
				},
				DataDir: spec.DataDirs[i],
			}
		},
	})
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(cfgs))
	for i, cfg := range cfgs {
		paths[i] = filepath.Join(spec.ConfigDir, cfg.Node.Name+".yaml")
		if err := config.Write(paths[i], cfg); err != nil {
			return nil, fmt.Errorf("write config of %s: %w", cfg.Node.Name, err)
		}
	}
	return paths, nil
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// hostOf is node i's address; 127.0.0.1 when the spec names none.
func hostOf(spec ConfigSpec, i int) string {
	if i < len(spec.Hosts) && spec.Hosts[i] != "" {
		return spec.Hosts[i]
	}
	return "127.0.0.1"
}
