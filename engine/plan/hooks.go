package plan

// HookKind says when the engine calls a hook.
type HookKind string

// The hook kinds.
const (
	HookEvery   HookKind = "every"    // repeatedly, every Every from the drive phase start
	HookAt      HookKind = "at"       // once, At after the drive phase start
	HookOnBlock HookKind = "on_block" // on each new block of the canonical chain, in height order
)

// HookKinds lists every hook kind.
var HookKinds = []HookKind{HookEvery, HookAt, HookOnBlock}

// Hook is a script function the engine calls during the drive phase. The
// function itself stays in the interpreter; the plan holds when it runs and
// what it may do, so validation can judge it before anything starts.
type Hook struct {
	ID   string   `json:"id"` // h1, h2, ... in registration order
	Kind HookKind `json:"kind"`
	// Func names the script function, for messages and reports.
	Func string `json:"func"`
	Pos  Pos    `json:"pos"`
	// Every is the interval of an every hook; At the time of an at hook.
	Every Span `json:"every,omitempty,omitzero"`
	At    Span `json:"at,omitempty,omitzero"`
	// Uses are the runner capabilities the hook's actions may need (a
	// hook that partitions the network uses "partition"). The run refuses
	// an action the hook did not declare, so the plan-time check is sound.
	Uses []Capability `json:"uses,omitempty"`
}

// HookActions maps each capability a hook may declare in uses= to the run
// context actions it allows.
var HookActions = map[Capability][]string{
	CapKill:      {"kill", "stop", "start"},
	CapRestart:   {"restart"},
	CapPause:     {"pause"},
	CapPartition: {"partition"},
	CapIsolate:   {"isolate"},
	CapLatency:   {"latency"},
	CapClockSkew: {"clock_skew"},
}
