package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
)

// Name is the runner's name as given to --runner.
const Name = "compose"

// passthroughEnv are the variables handed from nomosrun's environment to
// every node container.
var passthroughEnv = []string{env.LogLevel.Name, env.LogFilter.Name, env.LogDir.Name, env.DevMode.Name,
	env.OTLPEndpoint.Name, env.OTLPMetricsEndpoint.Name, env.MetricsOTLPIngestURL.Name, env.MetricExportInterval.Name}

func init() {
	runners.Register(runners.Info{
		Name: Name, Doc: "nodes as Docker Compose containers",
		// Node control goes through the Docker API. Network faults are
		// nftables rules (and netem) in each container's network namespace
		// where nomosrun may enter them (a local engine, CAP_NET_ADMIN and
		// CAP_SYS_ADMIN; checked at deploy); otherwise isolation disconnects
		// a container from the peer network and the other network faults
		// go through the node's fault hooks.
		Caps: plan.NewCapabilities(
			plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapLogs,
			plan.CapIsolate, plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapDA,
			plan.CapKernelNetwork,
		),
		Checks:        []string{"Docker engine", "Compose CLI", "node image"},
		New:           func() (runners.Runner, error) { return New(Options{}) },
		NetworkFaults: networkFaults,
	})
}

// Options configure the Compose runner. The zero value is ready to use.
type Options struct {
	// Image is the node image. Default: nodeimage.DefaultTag().
	Image string
	// HostIP is the address API ports are published on. Default:
	// COMPOSE_RUNNER_HOST, else 127.0.0.1.
	HostIP string
	// Preserve keeps the containers, networks and volumes after Teardown.
	// Default: COMPOSE_RUNNER_PRESERVE=1.
	Preserve bool
	// StartTimeout bounds how long a started node may take to answer on its
	// API. Default 60 s (doubled by SLOW_TEST_ENV=true).
	StartTimeout time.Duration
	// StopTimeout is how long a graceful stop waits before SIGKILL.
	// Default 10 s (doubled by SLOW_TEST_ENV=true).
	StopTimeout time.Duration
}

// Runner deploys plans as Docker Compose projects.
type Runner struct {
	opts Options
}

var _ runners.Runner = (*Runner)(nil)

// New returns a Compose runner. Environment overrides are read here; the
// engine is contacted only by Deploy.
func New(opts Options) (*Runner, error) {
	if opts.Image == "" {
		opts.Image = nodeimage.DefaultTag()
	}
	if opts.HostIP == "" {
		opts.HostIP = env.ComposeHost.Get()
	}
	if opts.HostIP == "" {
		opts.HostIP = env.ComposeHost.Default
	}
	if net.ParseIP(opts.HostIP) == nil {
		return nil, fmt.Errorf("%s=%q is not an IP address", env.ComposeHost.Name, opts.HostIP)
	}
	if env.ComposePreserve.Set() {
		opts.Preserve = true
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = env.Scaled(60 * time.Second)
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = env.Scaled(10 * time.Second)
	}
	return &Runner{opts: opts}, nil
}

// Name returns "compose".
func (r *Runner) Name() string { return Name }

// deployInput is the part of a DeploySpec the config generator needs.
type deployInput struct {
	plan       *plan.Plan
	chainStart time.Time
}

// deployAttempts is how many times Deploy picks new host ports when one was
// taken between choosing it and publishing it.
const deployAttempts = 3

// Deploy writes the configs and the Compose file into the run directory,
// brings the project up and returns once every container runs. On error
// nothing of the run is left behind.
func (r *Runner) Deploy(ctx context.Context, spec runners.DeploySpec) (runners.Cluster, error) {
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("compose deploy: %w", err)
	}
	topo := spec.Plan.Topology
	kind, err := nodekind.Get(topo.Node)
	if err != nil {
		return nil, fmt.Errorf("compose deploy: %w", err)
	}
	opts := r.opts
	opts.Image = nodekind.ImageOf(topo, kind, r.opts.Image)
	if topo.NodeBinary != "" {
		return nil, fmt.Errorf("compose deploy: node_binary %q applies to the host runner only; the compose runner runs the image %s", topo.NodeBinary, opts.Image)
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runDir, err := filepath.Abs(spec.RunDir)
	if err != nil {
		return nil, fmt.Errorf("compose deploy: run directory: %w", err)
	}
	cli, err := Docker(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose deploy: %w", err)
	}
	if _, err := composeCLI(); err != nil {
		cli.Close()
		return nil, fmt.Errorf("compose deploy: %w", err)
	}
	if err := EnsureImage(ctx, cli, opts.Image, kind, log); err != nil {
		cli.Close()
		return nil, fmt.Errorf("compose deploy: %w", err)
	}
	dirs, err := writeConfigs(deployInput{plan: spec.Plan, chainStart: spec.ChainStart}, filepath.Join(runDir, "configs"))
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("compose deploy: generate node configs: %w", err)
	}
	c := &Cluster{
		cli: cli, log: log, opts: opts, kind: kind, runID: newRunID(), runDir: runDir,
		file: filepath.Join(runDir, "docker-compose.yml"), byName: map[string]*node{},
	}
	for attempt := 1; ; attempt++ {
		err = c.up(ctx, topo.Nodes, dirs)
		if err == nil {
			break
		}
		// Nothing of a failed attempt may stay, preserved or not.
		c.remove(context.WithoutCancel(ctx))
		if attempt == deployAttempts || ctx.Err() != nil || !clashed(err) {
			cli.Close()
			return nil, fmt.Errorf("compose deploy: %w", err)
		}
		log.Warn("a host port or the subnet was taken meanwhile; retrying with new ones", "attempt", attempt, "err", err)
	}
	c.attachKernel(ctx)
	c.watchExits()
	cliName, version, _ := CLI()
	log.Info("compose project up", "project", c.runID, "nodes", len(c.nodes), "file", c.file,
		"cli", strings.Join(cliName, " "), "cli_version", version)
	return c, nil
}

// newRunID is a fresh project name: lower-case, unique per run.
func newRunID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "nomosrun-" + hex.EncodeToString(b)
}

// freePorts asks the kernel for n free TCP ports on ip. They are published
// as fixed host ports so a node keeps its URLs across restarts (Docker
// gives an ephemeral published port a new number on every start).
func freePorts(ip string, n int) ([]int, error) {
	out := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port on %s: %w", ip, err)
		}
		ls = append(ls, l)
		_, p, _ := net.SplitHostPort(l.Addr().String())
		port, _ := strconv.Atoi(p)
		out = append(out, port)
	}
	return out, nil
}

// clashed reports whether compose up failed on something another process
// took meanwhile: a host port, or the peer network's subnet.
func clashed(err error) bool {
	s := err.Error()
	return strings.Contains(s, "port is already allocated") || strings.Contains(s, "address already in use") ||
		strings.Contains(s, "overlaps with other one")
}
