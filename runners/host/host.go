// Package host runs a plan's nodes as child processes on this machine.
//
// Each node runs in its own process group with its own loopback ports, config
// file, data directory and log file under the run directory:
//
//	RunDir/configs/<node>/       generated config (node.yaml, a CometBFT home)
//	RunDir/data/<node>/          data directory (the node's working directory)
//	RunDir/logs/<node>.log       stdout and stderr (NOMOS_LOG_DIR points at RunDir/logs unless the caller sets it)
//
// Nodes never outlive the runner: Teardown stops every process group, and on
// Linux each node also gets a parent-death signal, so a nomosrun killed with
// SIGKILL takes its nodes with it. The run directory itself is never deleted
// here; keeping or removing it is the caller's choice.
//
// Networking (Options.Network, NOMOS_HOST_NETWORK): on loopback, the
// default, every node listens on 127.0.0.1 at ports of its own. In netns
// mode each node runs in its own network namespace with its own address on
// a private bridge (runners/kernelnet), on the same fixed ports; peers dial
// each other and nomosrun reaches the APIs at those addresses, and the
// cluster takes kernel network faults (runners.NetFaulter). Netns mode
// needs CAP_NET_ADMIN and CAP_SYS_ADMIN; "auto" uses it when permitted.
// Teardown removes the namespaces, and a deploy first removes what killed
// runs left behind.
//
// The node command is, in order of precedence: topology(node_binary=...) from
// the plan, Options.NodeCommand (or ExecutorCommand), and the plan's node
// kind's host program (nodekind.Program.Host: for the reference node,
// NOMOS_NODE_BIN or the running executable's hidden "node" subcommand).
// The runner appends the arguments the kind rendered ("--config <file>").
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
)

// Name is the runner's name as given to --runner.
const Name = "host"

// passthroughEnv are the variables handed from nomosrun's environment to
// every node. Nodes otherwise get a small fixed environment, so a run does
// not depend on whatever else the caller's shell holds.
var passthroughEnv = []string{
	env.LogLevel.Name, env.LogFilter.Name, env.KZGParams.Name, env.DevMode.Name,
	env.OTLPEndpoint.Name, env.OTLPMetricsEndpoint.Name, env.MetricsOTLPIngestURL.Name, env.MetricExportInterval.Name,
	"PATH", "HOME", "TMPDIR", "TZ", "GOCOVERDIR",
}

func init() {
	runners.Register(runners.Info{
		Name: Name, Doc: "nodes as processes on this machine",
		// Restart, kill, pause and logs are process signals and files;
		// isolate, partition and latency are the kernel's in netns mode
		// (network.go), else, like clock skew, the node's fault hooks.
		Caps: plan.NewCapabilities(
			plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapLogs,
			plan.CapIsolate, plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapDA, plan.CapKernelNetwork,
		),
		Checks:        []string{"node binary", "KZG parameters", "free ports", "network namespaces"},
		New:           func() (runners.Runner, error) { return New(Options{}) },
		NetworkFaults: networkFaults,
	})
}

// Options configure the host runner. The zero value is ready to use.
type Options struct {
	// NodeCommand starts a validator (and an executor unless ExecutorCommand
	// is set) instead of the node kind's program; the rendered arguments
	// are appended.
	NodeCommand []string
	// ExecutorCommand starts an executor instead of the kind's program.
	ExecutorCommand []string
	// WriteConfigs generates the node config files. Default: the plan's
	// node kind renders them.
	WriteConfigs ConfigWriter
	// StartTimeout bounds how long a started node may take to listen on its
	// API ports. Default 60 s (doubled by SLOW_TEST_ENV=true).
	StartTimeout time.Duration
	// StopTimeout is how long a graceful stop waits before SIGKILL.
	// Default 10 s (doubled by SLOW_TEST_ENV=true).
	StopTimeout time.Duration
	// TeardownGrace is how long Teardown lets nodes stop gracefully before
	// SIGKILL. Default 2 s.
	TeardownGrace time.Duration
	// Env adds KEY=VALUE entries to every node's environment.
	Env []string
	// Network is how nodes are networked: NetworkAuto (the default),
	// NetworkNetns or NetworkLoopback. NOMOS_HOST_NETWORK overrides it.
	Network string
}

// Runner deploys plans as host processes.
type Runner struct {
	opts Options
}

var _ runners.Runner = (*Runner)(nil)

// New returns a host runner. Environment overrides are read here.
func New(opts Options) (*Runner, error) {
	if len(opts.ExecutorCommand) == 0 {
		opts.ExecutorCommand = opts.NodeCommand
	}
	if opts.WriteConfigs == nil {
		opts.WriteConfigs = renderConfigs
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = env.Scaled(60 * time.Second)
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = env.Scaled(10 * time.Second)
	}
	if opts.TeardownGrace <= 0 {
		opts.TeardownGrace = 2 * time.Second
	}
	if v := env.HostNetwork.Get(); v != "" {
		opts.Network = v
	}
	var err error
	if opts.Network, err = checkNetwork(opts.Network); err != nil {
		return nil, err
	}
	return &Runner{opts: opts}, nil
}

// Name returns "host".
func (r *Runner) Name() string { return Name }

// deployAttempts is how many times Deploy picks new ports when a node
// cannot bind one (another process took it in the meantime).
const deployAttempts = 3

// Deploy writes the configs, starts every node and returns once each one
// listens on its API ports. On error nothing is left running.
func (r *Runner) Deploy(ctx context.Context, spec runners.DeploySpec) (runners.Cluster, error) {
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("host deploy: %w", err)
	}
	topo := spec.Plan.Topology
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runDir, err := filepath.Abs(spec.RunDir)
	if err != nil {
		return nil, fmt.Errorf("host deploy: run directory: %w", err)
	}
	layout := newLayout(runDir, topo.Nodes)
	if err := layout.create(); err != nil {
		return nil, fmt.Errorf("host deploy: %w", err)
	}
	netns, err := useNetns(r.opts.Network, log)
	if err != nil {
		return nil, fmt.Errorf("host deploy: %w", err)
	}
	var lastErr error
	for attempt := 1; attempt <= deployAttempts; attempt++ {
		c, err := r.deployOnce(ctx, spec, layout, netns, log)
		if err == nil {
			log.Info("host cluster deployed", "nodes", len(topo.Nodes), "run_dir", runDir)
			return c, nil
		}
		lastErr = err
		var se *startError
		if !errors.As(err, &se) || !se.bindFailed() || ctx.Err() != nil {
			break
		}
		log.Warn("a node could not bind its port; retrying with new ports", "attempt", attempt, "err", err)
	}
	return nil, fmt.Errorf("host deploy: %w", lastErr)
}

func (r *Runner) deployOnce(ctx context.Context, spec runners.DeploySpec, layout layout, netns bool, log *slog.Logger) (*Cluster, error) {
	topo := spec.Plan.Topology
	pl, err := place(ctx, netns, topo.Nodes, log)
	if err != nil {
		return nil, err
	}
	args, err := r.opts.WriteConfigs(ConfigSpec{
		Plan: spec.Plan, ChainStart: spec.ChainStart, Ports: pl.ports, Hosts: pl.hosts,
		ConfigDir: layout.configDir, DataDirs: layout.dataDirs, LogDir: layout.logDir,
	})
	if err == nil && len(args) != len(topo.Nodes) {
		err = fmt.Errorf("got the arguments of %d nodes for %d", len(args), len(topo.Nodes))
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("generate node configs: %w", err), pl.release())
	}
	c := newCluster(r.opts, pl, log)
	for i, n := range topo.Nodes {
		cmd, err := r.command(ctx, spec.Plan, n.Role)
		if err != nil {
			return nil, errors.Join(err, pl.release())
		}
		argv := append(append([]string(nil), cmd...), args[i]...)
		c.add(&node{
			name: n.Name, role: n.Role, host: pl.hosts[i], ports: pl.ports[i], argv: argv,
			env:     nodeEnv(layout.logDir, r.opts.Env),
			dataDir: layout.dataDirs[i], logPath: layout.logPaths[i],
			startTimeout: r.opts.StartTimeout, exits: c.reportExit, startCmd: pl.starter(n.Name),
		})
	}
	if err := c.startAll(ctx); err != nil {
		_ = c.Teardown(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// command picks the node command for a role (see the package doc).
func (r *Runner) command(ctx context.Context, p *plan.Plan, role plan.Role) ([]string, error) {
	switch {
	case p.Topology.NodeBinary != "":
		return []string{p.Topology.NodeBinary}, nil
	case role == plan.RoleExecutor && len(r.opts.ExecutorCommand) > 0:
		return r.opts.ExecutorCommand, nil
	case len(r.opts.NodeCommand) > 0:
		return r.opts.NodeCommand, nil
	}
	kind, err := nodekind.Get(p.Topology.Node)
	if err != nil {
		return nil, err
	}
	return kind.Program().Host(ctx, p, role)
}

// nodeEnv builds a node's environment: the passthrough variables that are
// set, POL_PROOF_DEV_MODE=true unless given, NOMOS_LOG_DIR (the caller's,
// made absolute, else logDir), then extra.
func nodeEnv(logDir string, extra []string) []string {
	var out []string
	for _, k := range passthroughEnv {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	if _, ok := env.DevMode.Lookup(); !ok {
		out = append(out, env.DevMode.Name+"="+env.DevMode.Default)
	}
	if dir := env.LogDir.Get(); dir != "" {
		// Nodes run in the run directory; a relative path means the caller's.
		if abs, err := filepath.Abs(dir); err == nil {
			logDir = abs
		}
	}
	out = append(out, env.LogDir.Name+"="+logDir)
	return append(out, extra...)
}

// layout is the run directory's shape for one cluster.
type layout struct {
	configDir, logDir string
	dataDirs          []string
	logPaths          []string
}

func newLayout(runDir string, nodes []plan.Node) layout {
	l := layout{configDir: filepath.Join(runDir, "configs"), logDir: filepath.Join(runDir, "logs")}
	for _, n := range nodes {
		l.dataDirs = append(l.dataDirs, filepath.Join(runDir, "data", n.Name))
		l.logPaths = append(l.logPaths, filepath.Join(l.logDir, n.Name+".log"))
	}
	return l
}

func (l layout) create() error {
	for _, d := range append([]string{l.configDir, l.logDir}, l.dataDirs...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create run directory: %w", err)
		}
	}
	return nil
}
