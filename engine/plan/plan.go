package plan

import (
	"fmt"
	"slices"
)

// Plan is a scenario turned into data: what to deploy, what to drive, what to
// break and what to expect. Slices keep script order; ids are sequential
// within their kind (w1.., f1.., e1.., h1..).
type Plan struct {
	Scenario     string            `json:"scenario"`
	Seed         int64             `json:"seed"`
	Params       map[string]string `json:"params,omitempty"`
	Matrix       []MatrixAxis      `json:"matrix,omitempty"`
	Topology     Topology          `json:"topology"`
	Wallets      Wallets           `json:"wallets"`
	Workloads    []Workload        `json:"workloads"`
	Faults       []Fault           `json:"faults"`
	Expectations []Expectation     `json:"expectations"`
	Hooks        []Hook            `json:"hooks,omitempty"`
	Run          Run               `json:"run"`
	Derived      Derived           `json:"derived"`
	Warnings     []Warning         `json:"warnings,omitempty"`
}

// Warning is a non-fatal remark about the script, such as a clamped value.
type Warning struct {
	Pos Pos    `json:"pos"`
	Msg string `json:"msg"`
}

// String formats the warning as file:line:col: message.
func (w Warning) String() string { return w.Pos.String() + ": " + w.Msg }

// Run is the run window as requested: wall time or a number of blocks (one of them).
type Run struct {
	Duration Duration `json:"duration,omitempty"`
	Blocks   int      `json:"blocks,omitempty"`
	// NoExpectations is the script's explicit opt-out of the rule that a
	// run checks at least one expectation (run(allow_no_expectations=True)).
	NoExpectations bool `json:"no_expectations,omitempty"`
	Pos            Pos  `json:"pos"`
}

// Derived holds the figures computed from the topology and run window, so
// every runner and report uses the same numbers.
type Derived struct {
	// BlockInterval is the mean time between blocks: slot / active_slot_coeff.
	BlockInterval Duration `json:"block_interval"`
	// RunDuration is the wall-time run window after clamping to at least 2 blocks.
	RunDuration Duration `json:"run_duration"`
	// ExpectedBlocks is ceil(run / slot * coeff).
	ExpectedBlocks int `json:"expected_blocks"`
	// Cooldown is how long workloads keep running after the window before evaluation.
	Cooldown Duration `json:"cooldown"`
	// PlannedTxs is the number of transactions the tx workload will submit.
	PlannedTxs int `json:"planned_txs,omitempty"`
	// PlannedBlobs and PlannedChannels are the DA workload's planned counts.
	PlannedChannels int `json:"planned_channels,omitempty"`
	PlannedBlobs    int `json:"planned_blobs,omitempty"`
}

// WorkloadKind names a workload.
type WorkloadKind string

// The workload kinds.
const (
	WorkloadTransactions WorkloadKind = "transactions"
	WorkloadDA           WorkloadKind = "da"
	WorkloadChaosRestart WorkloadKind = "chaos_restart"
	// WorkloadHook is, in reports, the transfers a run-time hook submitted:
	// a hook that calls ctx.transfer is a workload of its own.
	WorkloadHook WorkloadKind = "hook"
)

// Disrupts reports whether the workload is a fault (it restarts nodes)
// rather than load. Such a workload ends with the run window, like every
// fault, so nodes are never disrupted during the cooldown.
func (k WorkloadKind) Disrupts() bool { return k == WorkloadChaosRestart }

// Workload is a load or chaos generator running for the whole drive phase.
// Exactly one of the kind-specific fields is set.
type Workload struct {
	ID           string        `json:"id"`
	Kind         WorkloadKind  `json:"kind"`
	Pos          Pos           `json:"pos"`
	Transactions *Transactions `json:"transactions,omitempty"`
	DA           *DA           `json:"da,omitempty"`
	ChaosRestart *ChaosRestart `json:"chaos_restart,omitempty"`
}

// Transactions submits Rate transactions per block from Users wallets
// (0 means all wallets).
type Transactions struct {
	Rate  int `json:"rate"`
	Users int `json:"users,omitempty"`
}

// DA inscribes channels and disperses blobs through the executors.
type DA struct {
	ChannelRate int `json:"channel_rate"`
	BlobRate    int `json:"blob_rate"`
	Headroom    int `json:"headroom"`
}

// ChaosRestart restarts random nodes with a random delay between restarts and
// a cooldown per target.
type ChaosRestart struct {
	Validators     bool     `json:"validators"`
	Executors      bool     `json:"executors"`
	MinDelay       Duration `json:"min_delay"`
	MaxDelay       Duration `json:"max_delay"`
	TargetCooldown Duration `json:"target_cooldown"`
	Targets        []string `json:"targets"`
}

// FaultKind names a scheduled fault.
type FaultKind string

// The fault kinds.
const (
	FaultKill      FaultKind = "kill"
	FaultPause     FaultKind = "pause"
	FaultPartition FaultKind = "partition"
	FaultIsolate   FaultKind = "isolate"
	FaultLatency   FaultKind = "latency"
	FaultClockSkew FaultKind = "clock_skew"
	// FaultBug switches on a test-only bug of the reference node, to prove
	// that a checker fails on a real violation.
	FaultBug FaultKind = "bug"
)

// FaultKinds lists every fault kind, for tables that must cover them all.
var FaultKinds = []FaultKind{FaultKill, FaultPause, FaultPartition, FaultIsolate, FaultLatency, FaultClockSkew, FaultBug}

// Fault is one scheduled perturbation: it starts At and heals after Duration
// (or at the end of the run when Duration is zero). The fields every kind
// shares are on Fault; the kind-specific parameters are in the field named
// after the kind, set exactly when Kind is that kind (pause and isolate have
// none).
type Fault struct {
	ID   string    `json:"id"`
	Kind FaultKind `json:"kind"`
	Pos  Pos       `json:"pos"`
	// Targets are the affected nodes (all kinds but partition).
	Targets  Selector `json:"targets,omitempty,omitzero"`
	At       Span     `json:"at"`
	Duration Span     `json:"duration"`

	Kill      *KillParams      `json:"kill,omitempty"`
	Partition *PartitionParams `json:"partition,omitempty"`
	Latency   *LatencyParams   `json:"latency,omitempty"`
	ClockSkew *ClockSkewParams `json:"clock_skew,omitempty"`
	Bug       *BugParams       `json:"bug,omitempty"`

	// Via says how a network fault (partition, isolate, latency) is
	// applied; empty is ViaAuto.
	Via Via `json:"via,omitempty"`
}

// Via is how a network fault is applied.
type Via string

// The ways a network fault is applied.
const (
	// ViaAuto applies the fault in the kernel where the runner's network
	// takes kernel faults, else through the node's testing API; the report
	// says which.
	ViaAuto Via = ""
	// ViaKernel applies it in the kernel, outside the node process (network
	// namespaces, nftables, netem); a run where that is impossible fails,
	// naming what is missing.
	ViaKernel Via = "kernel"
	// ViaNode applies it through the node's testing API: the node drops and
	// delays its own messages (the reference node's fault hooks).
	ViaNode Via = "node"
)

// IsNetwork reports whether faults of kind k cut or shape links, and so
// may be applied in the kernel or by the node.
func (k FaultKind) IsNetwork() bool {
	return k == FaultPartition || k == FaultIsolate || k == FaultLatency
}

// KillParams are the parameters of a kill fault.
type KillParams struct {
	// RestartAfter brings a killed node back after this long (zero: never).
	RestartAfter Span `json:"restart_after,omitempty,omitzero"`
}

// PartitionParams are the parameters of a partition fault.
type PartitionParams struct {
	// Groups are the sides of the partition, each a list of node names.
	Groups [][]string `json:"groups,omitempty"`
	// GroupSpecs are the groups as written in the script; a single group
	// is cut off from every other node.
	GroupSpecs []Selector `json:"group_specs,omitempty"`
}

// LatencyParams shape the links of a latency fault: messages are delayed by
// Delay ± Jitter and dropped with probability Loss.
type LatencyParams struct {
	Delay  Duration `json:"delay,omitempty"`
	Jitter Duration `json:"jitter,omitempty"`
	Loss   float64  `json:"loss,omitempty"`
}

// ClockSkewParams are the parameters of a clock_skew fault.
type ClockSkewParams struct {
	// Offset shifts the targets' clocks; may be negative.
	Offset Duration `json:"offset,omitempty"`
}

// BugParams are the parameters of a bug fault (inject_bug).
type BugParams struct {
	// Name is the reference node's test-only bug, one of Bugs.
	Name string `json:"name"`
}

// RestartAfter returns how long after it starts a kill fault restarts its
// targets: zero when they stay down or the fault is not a kill.
func (f Fault) RestartAfter() Span {
	if f.Kill == nil {
		return Span{}
	}
	return f.Kill.RestartAfter
}

// BugName returns the bug a bug fault switches on, or "" for other kinds.
func (f Fault) BugName() string {
	if f.Bug == nil {
		return ""
	}
	return f.Bug.Name
}

// PartitionGroups returns the resolved sides of a partition fault, or nil
// for other kinds.
func (f Fault) PartitionGroups() [][]string {
	if f.Partition == nil {
		return nil
	}
	return f.Partition.Groups
}

// CheckParams reports what is wrong with the kind-specific fields of the
// fault: an unknown kind, the parameters of another kind, or missing
// parameters for a kind that has them. It returns nil when exactly the
// field matching Kind is set (none for pause and isolate).
func (f Fault) CheckParams() []error {
	if !slices.Contains(FaultKinds, f.Kind) {
		return []error{fmt.Errorf("unknown fault kind %q", f.Kind)}
	}
	want := ""
	if f.Kind.HasParams() {
		want = string(f.Kind)
	}
	return checkParams("fault", string(f.Kind), want, []paramField{
		{string(FaultKill), f.Kill != nil}, {string(FaultPartition), f.Partition != nil},
		{string(FaultLatency), f.Latency != nil}, {string(FaultClockSkew), f.ClockSkew != nil},
		{string(FaultBug), f.Bug != nil}})
}

// paramField is one kind-specific parameter field of a fault or an
// expectation: its name and whether it is set.
type paramField struct {
	name string
	set  bool
}

// checkParams checks that of fields exactly the one named want is set (none
// when want is empty), for a what ("fault", "expectation") of the given kind.
func checkParams(what, kind, want string, fields []paramField) []error {
	var errs []error
	found := false
	for _, f := range fields {
		switch {
		case !f.set:
		case f.name == want:
			found = true
		default:
			errs = append(errs, fmt.Errorf("a %s %s has %s parameters; %s", kind, what, f.name, onlyHint(want)))
		}
	}
	if want != "" && !found {
		errs = append(errs, fmt.Errorf("the %s %s has no %s parameters", kind, what, want))
	}
	return errs
}

// onlyHint tells which parameters a kind takes: those named want, or none.
func onlyHint(want string) string {
	if want == "" {
		return "it takes none"
	}
	return "set only the " + want + " ones"
}

// HasParams reports whether the kind carries parameters in a field of its
// own on Fault.
func (k FaultKind) HasParams() bool {
	switch k {
	case FaultKill, FaultPartition, FaultLatency, FaultClockSkew, FaultBug:
		return true
	}
	return false
}

// Bugs are the names of the reference node's test-only bugs, sorted:
// switches that make a node break the protocol on purpose.
var Bugs = []string{"drop_da_shares", "drop_transactions", "revert_finalized", "stop_applying", "stop_proposing"}

// Excused reports whether the checkers excuse a fault's targets while it
// lasts: faults the environment imposes on a node are; a bug is the node's
// own defect and never is.
func (k FaultKind) Excused() bool { return k != FaultBug }

// ExpectKind names an expectation.
type ExpectKind string

// The expectation kinds.
const (
	ExpectLiveness    ExpectKind = "liveness"
	ExpectTxInclusion ExpectKind = "tx_inclusion"
	ExpectDAInclusion ExpectKind = "da_inclusion"
	ExpectAgreement   ExpectKind = "consensus_agreement"
	ExpectMetric      ExpectKind = "metric"
	ExpectLog         ExpectKind = "log"
	ExpectCustom      ExpectKind = "custom"
)

// Expectation is a check evaluated after the run. Implicit ones were attached
// by a workload (transactions attaches tx_inclusion, da attaches da_inclusion).
// The fields every kind shares are on Expectation; the kind-specific
// parameters are in one field, set exactly when Kind is one of its kinds:
// Liveness for liveness, Inclusion for tx_inclusion and da_inclusion, Metric,
// Log and Custom for their kind (consensus_agreement has none).
type Expectation struct {
	ID       string     `json:"id"`
	Kind     ExpectKind `json:"kind"`
	Name     string     `json:"name"`
	Pos      Pos        `json:"pos"`
	Implicit bool       `json:"implicit,omitempty"`

	Liveness  *LivenessParams  `json:"liveness,omitempty"`
	Inclusion *InclusionParams `json:"inclusion,omitempty"`
	Metric    *MetricParams    `json:"metric,omitempty"`
	Log       *LogParams       `json:"log,omitempty"`
	Custom    *CustomParams    `json:"custom,omitempty"`
}

// LivenessParams parameterise liveness: Tolerance, Lag and MaxStall (in
// expected block intervals; 0 is the default).
type LivenessParams struct {
	Tolerance float64 `json:"tolerance,omitempty"`
	Lag       int     `json:"lag,omitempty"`
	MaxStall  float64 `json:"max_stall,omitempty"`
}

// InclusionParams parameterise tx_inclusion and da_inclusion.
type InclusionParams struct {
	// MinRatio is the required inclusion ratio.
	MinRatio float64 `json:"min_ratio,omitempty"`
}

// MetricParams form a metric threshold: Query Op Value.
type MetricParams struct {
	Query string    `json:"query,omitempty"`
	Op    CompareOp `json:"op,omitempty"`
	Value float64   `json:"value,omitempty"`
}

// LogParams form a log assertion: Pattern must match the log of every
// target.
type LogParams struct {
	Targets Selector `json:"targets,omitempty,omitzero"`
	Pattern string   `json:"pattern,omitempty"`
}

// CustomParams name a custom expectation's Starlark function.
type CustomParams struct {
	// Func is the key of the function among the script's custom
	// expectations.
	Func string `json:"func,omitempty"`
}

// expectParamKinds maps each expectation kind with parameters to the name
// of its parameter field.
var expectParamKinds = map[ExpectKind]string{
	ExpectLiveness: "liveness", ExpectTxInclusion: "inclusion", ExpectDAInclusion: "inclusion",
	ExpectMetric: "metric", ExpectLog: "log", ExpectCustom: "custom",
}

// ExpectKinds lists every expectation kind.
var ExpectKinds = []ExpectKind{ExpectLiveness, ExpectTxInclusion, ExpectDAInclusion, ExpectAgreement,
	ExpectMetric, ExpectLog, ExpectCustom}

// CheckParams reports what is wrong with the kind-specific fields of the
// expectation: an unknown kind, the parameters of another kind, or missing
// parameters for a kind that has them. It returns nil when exactly the
// field matching Kind is set (none for consensus_agreement).
func (e Expectation) CheckParams() []error {
	if !slices.Contains(ExpectKinds, e.Kind) {
		return []error{fmt.Errorf("unknown expectation kind %q", e.Kind)}
	}
	return checkParams("expectation", string(e.Kind), expectParamKinds[e.Kind], []paramField{
		{"liveness", e.Liveness != nil}, {"inclusion", e.Inclusion != nil}, {"metric", e.Metric != nil},
		{"log", e.Log != nil}, {"custom", e.Custom != nil}})
}
