package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/internal/ctxtime"

	"github.com/nomosrun/nomosrun/engine/expect"
	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/history"
	"github.com/nomosrun/nomosrun/engine/metrics"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/workloads"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
)

// execution is the state of one run.
type execution struct {
	plan   *plan.Plan
	runner runners.Runner
	opts   Options
	log    *slog.Logger
	start  time.Time

	cluster   runners.Cluster
	exited    <-chan error // unexpected node exits; nil when the runner has none
	nodes     []nodeclient.Node
	feed      *feed.Feed
	hist      *history.History // what the feed saw, every fault and restart
	workloads []workloads.Workload
	expects   []expect.Expectation
	env       *expect.Env
	metrics   metrics.Querier

	// hookErr receives the error of a failing run-time hook; nil without hooks.
	hookErr chan error
	// hookTxs are the transfers hooks submitted.
	hookTxs *hookTxs

	mu     sync.Mutex // guards res and observer calls
	res    *report.Result
	faults map[string]int // fault id -> index in res.Faults
}

// Execute runs plan p on runner r and returns the result. The result is
// non-nil whenever deploy was attempted, also on error. The error is an
// *Error (its Kind says what failed) or nil when every expectation passed. Teardown runs
// on every exit path, including cancellation of ctx and panics.
func Execute(ctx context.Context, p *plan.Plan, r runners.Runner, opts Options) (res *report.Result, err error) {
	if p == nil || r == nil {
		return nil, &Error{Phase: PhasePrepare, Kind: KindInvalid, Err: errors.New("execute needs a plan and a runner")}
	}
	x := &execution{plan: p, runner: r, opts: opts, log: opts.Logger, start: time.Now(), faults: map[string]int{}, hookTxs: newHookTxs(),
		hist: history.New()}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	x.res = &report.Result{Scenario: p.Scenario, Seed: p.Seed, Runner: r.Name(), Started: x.start,
		ExpectedBlocks: p.Derived.ExpectedBlocks, Nodes: []report.NodeResult{}, Expectations: []report.ExpectResult{},
		Workloads: []report.WorkloadResult{}, Timeline: []report.TimelineEvent{}, Faults: []report.FaultWindow{}}
	defer func() { x.finish(err) }()

	x.phase(PhasePrepare)
	if err := x.prepare(); err != nil {
		return x.res, &Error{Phase: PhasePrepare, Kind: KindInvalid, Err: err}
	}
	runDir, cleanupDir, err := x.runDir()
	if err != nil {
		return x.res, &Error{Phase: PhasePrepare, Kind: KindInfrastructure, Err: err}
	}
	defer cleanupDir()

	d, upErr := x.bringUp(ctx, runDir)
	if d != nil {
		defer func() {
			if err != nil && opts.OnFailure != nil && ctx.Err() == nil {
				opts.OnFailure(ctx, d.Cluster, err)
			}
			if terr := d.Teardown(ctx); terr != nil {
				x.log.Error("teardown", "err", terr)
				x.timeline("error", "teardown", terr.Error())
			}
		}()
		x.exited = d.Exited()
	}
	if upErr != nil {
		return x.res, upErr
	}

	// The feed follows every node from readiness to evaluation.
	feedCtx, stopFeed := context.WithCancel(ctx)
	var feedDone sync.WaitGroup
	defer func() { stopFeed(); feedDone.Wait() }()
	x.startFeed(feedCtx, &feedDone)

	x.phase(PhaseCapture)
	x.env = x.expectEnv(runDir)
	for _, e := range x.expects {
		if c, ok := e.(expect.Capturer); ok {
			c.Capture(x.env)
		}
	}

	if err := x.drive(ctx); err != nil {
		return x.res, err
	}

	x.phase(PhaseSettle)
	if err := x.settle(ctx); err != nil {
		return x.res, x.fail(ctx, PhaseSettle, err)
	}

	x.phase(PhaseEvaluate)
	if lc, ok := x.cluster.(runners.LogCollector); ok {
		dir := filepath.Join(runDir, "logs")
		if err := lc.CollectLogs(ctx, dir); err != nil {
			x.log.Warn("collect logs", "err", err)
		} else {
			x.env.LogDir = dir
		}
	}
	failures := x.evaluate(ctx)
	if ctx.Err() != nil {
		return x.res, x.fail(ctx, PhaseEvaluate, ctx.Err())
	}
	x.phase(PhaseReport)
	x.finalNodes(ctx)
	if len(failures) > 0 {
		return x.res, &Error{Phase: PhaseEvaluate, Kind: KindExpectations, Err: &ExpectationsError{Failures: failures}}
	}
	return x.res, nil
}

// ExitWatcher is a cluster that reports node exits nobody asked for (a
// crash, an external kill). Such an exit during the drive or cooldown ends
// the run with an infrastructure error naming the node.
type ExitWatcher interface {
	Exited() <-chan error
}

// prepare builds workloads and expectations from the plan, before anything
// is deployed, so a plan they cannot handle fails early.
func (x *execution) prepare() error {
	var errs []error
	for _, w := range x.plan.Workloads {
		wl, err := workloads.New(w, x.plan)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		x.workloads = append(x.workloads, wl)
	}
	for _, e := range x.plan.Expectations {
		ex, err := expect.New(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: expectation %s: %w", e.Pos, e.ID, err))
			continue
		}
		x.expects = append(x.expects, ex)
	}
	q, err := x.metricsQuerier()
	if err != nil {
		errs = append(errs, err)
	}
	x.metrics = q
	if q != nil {
		x.res.Metrics = q.Source()
	}
	return errors.Join(errs...)
}

// runDir returns the run directory, creating a temporary one if needed.
func (x *execution) runDir() (string, func(), error) {
	if x.opts.RunDir != "" {
		if err := os.MkdirAll(x.opts.RunDir, 0o755); err != nil {
			return "", nil, fmt.Errorf("run directory: %w", err)
		}
		return x.opts.RunDir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "nomosrun-")
	if err != nil {
		return "", nil, fmt.Errorf("run directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// connect builds a client per deployed node.
func (x *execution) connect() error {
	factory := x.opts.Clients
	if factory == nil {
		kind, err := nodekind.Get(x.plan.Topology.Node)
		if err != nil {
			return err
		}
		factory = func(n runners.Node) (NodeClient, error) { return kind.Client(n.API(), n.TestingAPI()), nil }
	}
	for _, n := range x.cluster.Nodes() {
		c, err := factory(n)
		if err != nil {
			return fmt.Errorf("client for %s: %w", n.Name(), err)
		}
		x.nodes = append(x.nodes, nodeclient.Node{Name: n.Name(), Role: n.Role(), Client: c})
	}
	if len(x.nodes) == 0 {
		return errors.New("the runner deployed no nodes")
	}
	return nil
}

func (x *execution) startFeed(ctx context.Context, wg *sync.WaitGroup) {
	sources := map[string]feed.Source{}
	for _, n := range x.nodes {
		sources[n.Name] = n.Client
	}
	x.feed = feed.New(sources, x.log)
	x.feed.OnNode(func(name string, st feed.NodeState) {
		x.observe(name, st)
		x.emit(Event{Kind: EventHeight, Node: name, Height: st.Info.Height, Err: st.Err})
	})
	interval := x.opts.FeedInterval
	if interval <= 0 {
		interval = time.Second
	}
	x.feed.Poll(ctx) // catch up once before capture
	wg.Add(1)
	go func() {
		defer wg.Done()
		x.feed.Run(ctx, interval)
	}()
}

func (x *execution) expectEnv(runDir string) *expect.Env {
	env := &expect.Env{Plan: x.plan, Feed: x.feed, History: x.hist, Custom: x.opts.Custom, Metrics: x.metrics, Nodes: x.nodes}
	var txs txSources
	if len(x.plan.Hooks) > 0 {
		txs = append(txs, x.hookTxs)
	}
	for _, w := range x.workloads {
		if s, ok := w.(expect.TxSource); ok {
			txs = append(txs, s)
		}
		if s, ok := w.(expect.DASource); ok {
			env.DA = s
		}
	}
	if len(txs) > 0 {
		env.Tx = txs
	}
	env.Snapshot = func() map[string]any {
		counts := map[string]map[string]int{}
		for _, w := range x.workloads {
			counts[w.ID()] = w.Counts()
		}
		for id, c := range x.hookTxs.counts() {
			counts[id] = c
		}
		snap := expect.Snapshot(env, counts)
		snap["history"] = x.historySnapshot()
		return snap
	}
	return env
}

// evaluate runs every expectation, never stopping at a failure, and
// returns the failure lines.
func (x *execution) evaluate(ctx context.Context) []string {
	var failures []string
	for i, e := range x.expects {
		pe := x.plan.Expectations[i]
		t0 := time.Now()
		v, err := safeEvaluate(ctx, e, x.env)
		r := report.ExpectResult{ID: pe.ID, Kind: pe.Kind, Name: pe.Name, Passed: err == nil,
			Summary: v.Summary, Evidence: v.Evidence, Duration: plan.Duration(time.Since(t0))}
		if !pe.Pos.IsZero() {
			r.Pos = pe.Pos.String()
		}
		if err != nil {
			r.Message = err.Error()
			failures = append(failures, fmt.Sprintf("%s %s: %s", pe.ID, pe.Name, r.Message))
		}
		x.mu.Lock()
		x.res.Expectations = append(x.res.Expectations, r)
		x.mu.Unlock()
		x.emit(Event{Kind: EventExpectation, ID: pe.ID, Passed: r.Passed, Detail: r.Message})
	}
	return failures
}

// safeEvaluate turns a panicking expectation into a failure.
func safeEvaluate(ctx context.Context, e expect.Expectation, env *expect.Env) (v expect.Verdict, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("expectation panicked: %v", r)
		}
	}()
	return e.Evaluate(ctx, env)
}

// settle lets the feed catch up before evaluation: after the optional
// Options.Settle pause, one feed poll that starts after the last block of
// the drive, so the feed holds every block the nodes have; then the history
// gets every block it needs to place each LIB ever seen. Waiting a fixed
// block interval instead would only add idle time to every run.
func (x *execution) settle(ctx context.Context) error {
	if err := ctxtime.Sleep(ctx, x.opts.Settle); err != nil {
		return err
	}
	x.feed.Poll(ctx)
	x.completeHistory(ctx)
	return ctx.Err()
}

func (x *execution) getenv(k string) string {
	if x.opts.Getenv != nil {
		return x.opts.Getenv(k)
	}
	return os.Getenv(k)
}

// fail wraps err for phase, as interrupted when ctx was cancelled.
func (x *execution) fail(ctx context.Context, ph Phase, err error) *Error {
	if ctx.Err() != nil {
		return &Error{Phase: ph, Kind: KindInterrupted, Err: fmt.Errorf("interrupted: %w", context.Cause(ctx))}
	}
	return &Error{Phase: ph, Kind: KindInfrastructure, Err: err}
}
