// Package reference is the node kind of the reference node (simnode), the
// default kind: its config generator, its HTTP API client, its transaction
// codec and where runners find its program.
package reference

import (
	"context"
	"fmt"
	"os"
	"path"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// Name is the kind's name; it is nodekind.Default.
const Name = nodekind.Default

// ConfigFile is the name of a node's config file in its config directory.
const ConfigFile = "node.yaml"

func init() { nodekind.Register(Kind{}) }

// Kind is the reference node's kind.
type Kind struct{}

var _ nodekind.Kind = Kind{}

// Name implements nodekind.Kind.
func (Kind) Name() string { return Name }

// Doc implements nodekind.Kind.
func (Kind) Doc() string {
	return "the reference node (simnode) built into nomosrun; NOMOS_NODE_BIN swaps in a binary with its API"
}

// Check implements nodekind.Kind: the reference node serves every builtin.
func (Kind) Check(*plan.Plan) error { return nil }

// Render implements nodekind.Kind with the shared config generator: one
// node.yaml per node, started with --config.
func (Kind) Render(s nodekind.RenderSpec) ([]nodekind.Launch, error) {
	cfgs, err := Generate(Spec{
		Plan: s.Plan, ChainStart: s.ChainStart, KZGParamsPath: s.KZGParamsPath,
		Place: func(i int, n plan.Node) Placement {
			p := s.Place(i, n)
			return Placement{
				Addrs:   config.NodeAddrs{API: p.API, Testing: p.Aux, P2PListen: p.P2PListen, P2PDial: p.P2PDial},
				DataDir: p.DataDir,
			}
		},
	})
	if err != nil {
		return nil, err
	}
	out := make([]nodekind.Launch, len(cfgs))
	for i, cfg := range cfgs {
		b, err := config.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("config of %s: %w", cfg.Node.Name, err)
		}
		dir := s.Place(i, s.Plan.Topology.Nodes[i]).ConfigDir
		out[i] = nodekind.Launch{
			Files: map[string][]byte{ConfigFile: b},
			Args:  []string{"--config", path.Join(dir, ConfigFile)},
		}
	}
	return out, nil
}

// Program implements nodekind.Kind. On the host the command is
// NOMOS_NODE_BIN (validators; executors too unless NOMOS_EXECUTOR_BIN is
// set), else this executable's hidden "node" subcommand.
func (Kind) Program() nodekind.Program {
	return nodekind.Program{Host: hostCommand, Image: nodeimage.DefaultTag()}
}

func hostCommand(_ context.Context, _ *plan.Plan, role plan.Role) ([]string, error) {
	if v := env.ExecutorBin.Get(); v != "" && role == plan.RoleExecutor {
		return []string{v}, nil
	}
	if v := env.NodeBin.Get(); v != "" {
		return []string{v}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locate the nomosrun executable for the embedded node: %w", err)
	}
	return []string{exe, "node"}, nil
}

// Client implements nodekind.Kind: the node HTTP API at api, the testing
// API at aux.
func (Kind) Client(api, aux string) nodeclient.Client { return nodeclient.NewHTTP(api, aux, nil) }

// Codec implements nodekind.Kind: the reference node's transaction signing.
func (Kind) Codec(p *plan.Plan, genesis *nodeapi.Block) (nodeclient.Codec, error) {
	return NodeAPICodec(p, genesis)
}
