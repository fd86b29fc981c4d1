// Package cometbft is the node kind of CometBFT (github.com/cometbft/cometbft),
// a production BFT consensus engine, running its built-in key-value
// application (proxy_app = "kvstore"): every node of the topology is a
// validator of equal power, and the chain commits a block every slot.
//
// The kind renders each node's home directory (keys, genesis, config.toml),
// reads nodes through their RPC and Prometheus endpoints (client.go), and
// builds the workloads' transactions as kvstore writes (codec.go). CometBFT
// has no fault hooks: restarts, kills and pauses are the runner's, network
// faults the kernel's.
package cometbft

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/versions"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodekind"
)

// Name is the kind's name in topology(node=...).
const Name = "cometbft"

// MetricNamespace prefixes the node's Prometheus metrics
// (cometbft_consensus_height, cometbft_p2p_peers, ...).
const MetricNamespace = "cometbft"

func init() { nodekind.Register(Kind{}) }

// Kind is CometBFT's kind.
type Kind struct{}

var _ nodekind.Kind = Kind{}

// Name implements nodekind.Kind.
func (Kind) Name() string { return Name }

// Doc implements nodekind.Kind.
func (Kind) Doc() string {
	return "CometBFT " + Version() + " with its built-in kvstore application; every node a validator"
}

// Version is the pinned CometBFT release (COMETBFT_VERSION of versions.env).
func Version() string {
	v, err := versions.Default()
	if err != nil || v.CometBFT == "" {
		return "v1.0.1"
	}
	return v.CometBFT
}

// Check implements nodekind.Kind: CometBFT has no executors and no DA, and
// no fault hooks for clock skew, test bugs or network faults applied by
// the node itself.
func (Kind) Check(p *plan.Plan) error {
	var errs []error
	add := func(pos plan.Pos, format string, args ...any) {
		errs = append(errs, &plan.PlanError{Pos: pos, Msg: "node kind cometbft: " + fmt.Sprintf(format, args...)})
	}
	if p.Topology.Executors > 0 {
		add(p.Topology.Pos, "a CometBFT network has validators only; set executors=0")
	}
	for _, w := range p.Workloads {
		if w.Kind == plan.WorkloadDA {
			add(w.Pos, "workload %s needs data availability, which a CometBFT chain has not; use the reference node (drop node=\"cometbft\") or take the da workload out", w.ID)
		}
	}
	for _, e := range p.Expectations {
		if e.Kind == plan.ExpectDAInclusion && !e.Implicit {
			add(e.Pos, "%s needs data availability, which a CometBFT chain has not", e.ID)
		}
	}
	for _, f := range p.Faults {
		switch {
		case f.Kind == plan.FaultClockSkew:
			add(f.Pos, "fault %s: CometBFT has no clock hook, and the kernel cannot shift one process's clock; take the clock_skew out", f.ID)
		case f.Kind == plan.FaultBug:
			add(f.Pos, "fault %s: test bugs are the reference node's; CometBFT has none", f.ID)
		case f.Kind.IsNetwork() && f.Via == plan.ViaNode:
			add(f.Pos, "fault %s: via=\"node\" needs the node's fault hooks, which CometBFT has not; drop via= (or use via=\"kernel\")", f.ID)
		}
	}
	return errors.Join(errs...)
}

// Render implements nodekind.Kind (render.go).
func (Kind) Render(s nodekind.RenderSpec) ([]nodekind.Launch, error) { return render(s) }

// Program implements nodekind.Kind.
func (Kind) Program() nodekind.Program {
	return nodekind.Program{Host: hostCommand, Image: "nomosrun/cometbft:" + Version(),
		ImageBinary: func() (string, string, error) {
			bin, err := Binary()
			return bin, Version(), err
		}}
}

// CachedBinary is where tools/cometbft/build.sh puts the pinned release.
func CachedBinary() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.TempDir(), "cache")
	}
	return filepath.Join(dir, "nomosrun", "cometbft", Version(), "cometbft")
}

// Binary finds the cometbft binary: NOMOS_COMETBFT_BIN, the cached build,
// then cometbft on PATH. The error says how to get one.
func Binary() (string, error) {
	if v := env.CometBFTBin.Get(); v != "" {
		if _, err := os.Stat(v); err != nil {
			return "", fmt.Errorf("%s: %w", env.CometBFTBin.Name, err)
		}
		return v, nil
	}
	if p := CachedBinary(); isExecutable(p) {
		return p, nil
	}
	if p, err := exec.LookPath("cometbft"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no cometbft binary: run tools/cometbft/build.sh (builds CometBFT %s from the Go module proxy into %s), or set %s",
		Version(), filepath.Dir(CachedBinary()), env.CometBFTBin.Name)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func hostCommand(context.Context, *plan.Plan, plan.Role) ([]string, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	return []string{bin}, nil
}

// Client implements nodekind.Kind: RPC at api, Prometheus at aux.
func (Kind) Client(api, aux string) nodeclient.Client { return NewClient(api, aux) }

// Codec implements nodekind.Kind: kvstore writes, one per wallet.
func (Kind) Codec(p *plan.Plan, _ *nodeapi.Block) (nodeclient.Codec, error) { return newCodec(p), nil }
