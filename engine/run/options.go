// Package run drives a plan on a runner: deploy, readiness, capture, drive
// (workloads and the fault schedule, concurrently, for the run window),
// cooldown, settle, evaluation of every expectation, report, and teardown on
// every exit path. It is the only place that orders these phases.
//
// Cooldown follows the Rust framework's rule (the plan's Derived.Cooldown:
// max(5, security_param) block intervals, at least 30 s with node control)
// whenever the plan has workloads or faults. A plan with neither has nothing
// to cool down and goes straight from the window to settle. Settle is one
// block feed poll after the drive (plus Options.Settle, when set), not a
// fixed pause: the feed only has to catch up with the last blocks.
package run

import (
	"context"
	"log/slog"
	"time"

	"github.com/nomosrun/nomosrun/engine/expect"
	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/metrics"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// NodeClient is how the engine talks to one node.
type NodeClient = nodeclient.Client

// ClientFactory builds the client of a deployed node.
type ClientFactory func(n runners.Node) (NodeClient, error)

// CodecFactory builds the transaction codec of a run from its plan and the
// chain's genesis block.
type CodecFactory func(p *plan.Plan, genesis *nodeapi.Block) (nodeclient.Codec, error)

// Options tune a run. The zero value runs with defaults.
type Options struct {
	// RunDir is the run's directory (configs, data, collected logs). Empty:
	// a temporary directory, removed afterwards.
	RunDir string
	// ReportDir, when set, receives report.json, junit.xml and report.html
	// at the end of the run, on every exit path.
	ReportDir string
	// Clients builds node clients; nil means the plan's node kind's
	// (nodekind.Kind.Client at the node's API and TestingAPI).
	Clients ClientFactory
	// Codec builds signed transactions for the tx and DA workloads. When nil,
	// NewCodec builds one once the chain is up.
	Codec nodeclient.Codec
	// NewCodec builds the codec from the plan and the genesis block (where
	// the wallets' notes are); nil means the plan's node kind's codec.
	NewCodec CodecFactory
	// Metrics answers expect_metric queries; nil means the environment's
	// choice (a Prometheus at NOMOS_METRICS_QUERY_URL, else node /metrics).
	Metrics metrics.Querier
	// Custom evaluates custom Starlark expectations.
	Custom expect.CustomFunc
	// Hooks calls the plan's run-time hooks (the interpreter's functions);
	// a plan with hooks needs it.
	Hooks hooks.Caller
	// Observer receives progress events (phases, heights, workload counts,
	// faults). It is called from several goroutines, one call at a time.
	Observer func(Event)
	// OnFailure, when set, is called after a failed run (expectations or
	// infrastructure, not an interrupt) with the cluster still up, before
	// teardown: a caller may keep the nodes for inspection until it returns.
	OnFailure func(ctx context.Context, c runners.Cluster, err error)
	// Logger receives the engine's log; nil discards it.
	Logger *slog.Logger
	// ReadinessTimeout bounds each readiness check (default 60 s, doubled
	// when SLOW_TEST_ENV=true).
	ReadinessTimeout time.Duration
	// ReadinessPoll spaces readiness probes (default 200 ms).
	ReadinessPoll time.Duration
	// FeedInterval spaces block feed polls (default 1 s).
	FeedInterval time.Duration
	// Settle is an extra pause between cooldown and the feed's catch-up poll
	// before evaluation (default none).
	Settle time.Duration
	// TeardownTimeout bounds teardown (default 2 min).
	TeardownTimeout time.Duration
	// Getenv reads environment variables (default os.Getenv).
	Getenv func(string) string
}

// Phase names a lifecycle phase.
type Phase string

// The lifecycle phases in order.
const (
	PhasePrepare   Phase = "prepare"
	PhaseDeploy    Phase = "deploy"
	PhaseReadiness Phase = "readiness"
	PhaseCapture   Phase = "capture"
	PhaseDrive     Phase = "drive"
	PhaseCooldown  Phase = "cooldown"
	PhaseSettle    Phase = "settle"
	PhaseEvaluate  Phase = "evaluate"
	PhaseReport    Phase = "report"
	PhaseTeardown  Phase = "teardown"
)

// EventKind names a progress event.
type EventKind string

// The progress event kinds.
const (
	EventPhase        EventKind = "phase"
	EventHeight       EventKind = "height"
	EventWorkload     EventKind = "workload"
	EventFaultStart   EventKind = "fault_start"
	EventFaultHeal    EventKind = "fault_heal"
	EventFaultSkipped EventKind = "fault_skipped"
	EventRestart      EventKind = "restart"
	EventExpectation  EventKind = "expectation"
	EventHookLog      EventKind = "hook_log" // a hook's ctx.log line (Detail)
)

// Event is one progress event.
type Event struct {
	// At is the time since the run started.
	At   time.Duration
	Kind EventKind
	// Phase is set for phase events (the phase entered).
	Phase Phase
	// Node and Height are set for height events (Err when unreachable) and
	// Node for restarts.
	Node   string
	Height uint64
	// ID names the workload, fault or expectation concerned.
	ID string
	// Counts are a workload's counters.
	Counts map[string]int
	// Passed and Detail describe an evaluated expectation or a fault.
	Passed bool
	Detail string
	Err    error
}
