// Package report holds the result model of a run and writes it as a
// terminal summary, report.json, JUnit XML and a self-contained HTML page.
package report

import (
	"os"
	"path/filepath"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// Result is everything a run produced. Offsets (At, Start, End) are
// durations since Started, so a result reads the same whatever the clock.
type Result struct {
	Scenario string    `json:"scenario"`
	Seed     int64     `json:"seed"`
	Runner   string    `json:"runner"`
	Started  time.Time `json:"started"`
	// Duration is the wall time of the whole run, deploy to teardown.
	Duration plan.Duration `json:"duration"`
	// Outcome is "passed", "failed" (expectations), "error" (infrastructure)
	// or "interrupted".
	Outcome string `json:"outcome"`
	// Error is the run error's message (empty when passed).
	Error string `json:"error,omitempty"`
	// ExpectedBlocks is the plan's expected block count for the run window.
	ExpectedBlocks int `json:"expected_blocks"`
	// Metrics names where expect_metric values came from.
	Metrics      string           `json:"metrics,omitempty"`
	Nodes        []NodeResult     `json:"nodes"`
	Expectations []ExpectResult   `json:"expectations"`
	Workloads    []WorkloadResult `json:"workloads"`
	Chain        ChainStats       `json:"chain"`
	// Window is the run window (the drive phase) that liveness judges.
	Window   Window          `json:"window"`
	Timeline []TimelineEvent `json:"timeline"`
	Faults   []FaultWindow   `json:"faults"`
	Heights  []HeightSample  `json:"heights,omitempty"`
	// Series are the values the scenario's hooks recorded, by name.
	Series []Series `json:"series,omitempty"`
	// Hooks say how the run-time hooks ran.
	Hooks *HookStats `json:"hooks,omitempty"`
}

// Series is one named series a hook recorded with ctx.record.
type Series struct {
	Name   string        `json:"name"`
	Points []SeriesPoint `json:"points"`
}

// SeriesPoint is one recorded value, at a time since the run started.
type SeriesPoint struct {
	At    plan.Duration `json:"at"`
	Value float64       `json:"value"`
}

// HookStats say how the run-time hooks ran: each hook's calls, and how far
// the on_block calls lagged behind the block feed.
type HookStats struct {
	Hooks        []HookCalls   `json:"hooks"`
	MaxLag       plan.Duration `json:"max_lag"`
	MaxLagBlocks int           `json:"max_lag_blocks"`
}

// HookCalls are one hook's calls.
type HookCalls struct {
	ID    string        `json:"id"`
	Kind  plan.HookKind `json:"kind"`
	Func  string        `json:"func"`
	Pos   string        `json:"pos"`
	Calls int           `json:"calls"`
	// Busy is the time the calls took in all.
	Busy plan.Duration `json:"busy"`
	// Skipped counts the intervals that passed while an earlier call ran.
	Skipped int `json:"skipped,omitempty"`
}

// The outcomes of a run.
const (
	OutcomePassed      = "passed"
	OutcomeFailed      = "failed"
	OutcomeError       = "error"
	OutcomeInterrupted = "interrupted"
)

// NodeResult is a node's final state.
type NodeResult struct {
	Name   string    `json:"name"`
	Role   plan.Role `json:"role"`
	Height uint64    `json:"height"`
	LIB    string    `json:"lib"`
	Tip    string    `json:"tip"`
	Mode   string    `json:"mode,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// ExpectResult is one evaluated expectation.
type ExpectResult struct {
	ID      string          `json:"id"`
	Kind    plan.ExpectKind `json:"kind"`
	Name    string          `json:"name"`
	Pos     string          `json:"pos,omitempty"`
	Passed  bool            `json:"passed"`
	Message string          `json:"message,omitempty"`
	// Summary is one line of the figures judged ("54 blocks in the window,
	// target 44"); Evidence holds them in full, shaped by the kind.
	Summary  string        `json:"summary,omitempty"`
	Evidence any           `json:"evidence,omitempty"`
	Duration plan.Duration `json:"duration"`
}

// WorkloadResult is a workload's final counters.
type WorkloadResult struct {
	ID     string            `json:"id"`
	Kind   plan.WorkloadKind `json:"kind"`
	Counts map[string]int    `json:"counts"`
	Error  string            `json:"error,omitempty"`
}

// ChainStats summarises the canonical chain the block feed followed.
type ChainStats struct {
	Height       uint64 `json:"height"`
	Blocks       int    `json:"blocks"`
	Orphaned     int    `json:"orphaned"`
	Transactions int    `json:"transactions"`
}

// Window is a span of the run, as offsets since Started.
type Window struct {
	Start plan.Duration `json:"start"`
	End   plan.Duration `json:"end"`
}

// TimelineEvent is a phase change, a fault event or a node restart.
type TimelineEvent struct {
	At   plan.Duration `json:"at"`
	Kind string        `json:"kind"` // phase, fault_start, fault_heal, fault_skipped, restart, node_exit, error
	// Name is the phase, or the fault or workload id.
	Name string `json:"name"`
	// Nodes are the nodes a fault or restart acted on.
	Nodes  []string `json:"nodes,omitempty"`
	Detail string   `json:"detail,omitempty"`
}

// FaultWindow is when a fault was active.
type FaultWindow struct {
	ID      string         `json:"id"`
	Kind    plan.FaultKind `json:"kind"`
	Bug     string         `json:"bug,omitempty"` // the bug of an inject_bug
	Targets []string       `json:"targets"`
	Start   plan.Duration  `json:"start"`
	End     plan.Duration  `json:"end"`
	Error   string         `json:"error,omitempty"`
	// Via is how a network fault was applied: "kernel" or "node".
	Via plan.Via `json:"via,omitempty"`
	// Applied is what the kernel path measured when the fault started
	// ("8/8 links cut, verified in 306ms"), or why the nodes' testing API
	// applied it; Healed what healing measured.
	Applied string `json:"applied,omitempty"`
	Healed  string `json:"healed,omitempty"`
}

// HeightSample is a node's tip and LIB heights at an offset, for the
// charts. LIB is 0 when the LIB block was not yet placed.
type HeightSample struct {
	Node   string        `json:"node"`
	At     plan.Duration `json:"at"`
	Height uint64        `json:"height"`
	LIB    uint64        `json:"lib"`
}

// Passed reports whether the run passed.
func (r *Result) Passed() bool { return r.Outcome == OutcomePassed }

// The timeline kind of a node restart nobody scheduled as a fault window
// (chaos_restart).
const TimelineRestart = "restart"

// Restarts returns the restart events of the timeline, in order.
func (r *Result) Restarts() []TimelineEvent {
	var out []TimelineEvent
	for _, ev := range r.Timeline {
		if ev.Kind == TimelineRestart {
			out = append(out, ev)
		}
	}
	return out
}

// Failed returns the expectations that failed.
func (r *Result) Failed() []ExpectResult {
	var out []ExpectResult
	for _, e := range r.Expectations {
		if !e.Passed {
			out = append(out, e)
		}
	}
	return out
}

// WriteDir writes report.json, junit.xml and report.html into dir.
func WriteDir(r *Result, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	writers := []struct {
		name  string
		write func(*Result, *os.File) error
	}{
		{"report.json", func(r *Result, f *os.File) error { return WriteJSON(f, r) }},
		{"junit.xml", func(r *Result, f *os.File) error { return WriteJUnit(f, r) }},
		{"report.html", func(r *Result, f *os.File) error { return WriteHTML(f, r) }},
	}
	for _, w := range writers {
		f, err := os.Create(filepath.Join(dir, w.name))
		if err != nil {
			return err
		}
		err = w.write(r, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
