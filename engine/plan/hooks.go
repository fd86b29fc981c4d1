package plan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

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

// MaxHooks bounds the hooks of a plan, like MaxFaults.
const MaxHooks = 100

// HookCapabilities lists the capabilities a hook may declare in uses=, in
// name order.
func HookCapabilities() []Capability {
	caps := Capabilities{}
	for c := range HookActions {
		caps[c] = true
	}
	return caps.Sorted()
}

// ActionCapability returns the capability a run context action needs, and
// false for an action that needs none (reads, transfer, record, heal).
func ActionCapability(action string) (Capability, bool) {
	for c, actions := range HookActions {
		if slices.Contains(actions, action) {
			return c, true
		}
	}
	return "", false
}

// Describe names the hook for messages: "h1 (on_block adapt)".
func (h Hook) Describe() string { return fmt.Sprintf("%s (%s %s)", h.ID, h.Kind, h.Func) }

// Starlark returns the hook's call, naming its function, which must be
// defined for the call to interpret.
func (h Hook) Starlark() string {
	uses := ""
	if len(h.Uses) > 0 {
		quoted := make([]string, len(h.Uses))
		for i, c := range h.Uses {
			quoted[i] = strconv.Quote(string(c))
		}
		uses = ", uses=[" + strings.Join(quoted, ", ") + "]"
	}
	switch h.Kind {
	case HookEvery:
		return fmt.Sprintf("every(%s, %s%s)", spanCall(h.Every), h.Func, uses)
	case HookAt:
		when := spanCall(h.At)
		if h.At.IsZero() {
			when = `"0s"`
		}
		return fmt.Sprintf("at(%s, %s%s)", when, h.Func, uses)
	}
	return fmt.Sprintf("%s(%s%s)", h.Kind, h.Func, uses)
}

// check reports what is wrong with the hook itself: its kind, the time
// field of its kind, and the names in uses=.
func (h Hook) check() []error {
	var errs []error
	switch h.Kind {
	case HookEvery:
		if h.Every.IsZero() {
			errs = append(errs, fmt.Errorf("every needs a positive interval"))
		}
		if !h.At.IsZero() {
			errs = append(errs, fmt.Errorf("an every hook has an at time; set only the interval"))
		}
	case HookAt:
		if !h.Every.IsZero() {
			errs = append(errs, fmt.Errorf("an at hook has an interval; set only the time"))
		}
	case HookOnBlock:
		if !h.Every.IsZero() || !h.At.IsZero() {
			errs = append(errs, fmt.Errorf("an on_block hook has a time; it runs on each block"))
		}
	default:
		return []error{fmt.Errorf("unknown hook kind %q", h.Kind)}
	}
	for _, c := range h.Uses {
		if _, ok := HookActions[c]; !ok {
			errs = append(errs, fmt.Errorf("uses %q, which is not a hook capability (want one of %s)", c, capList(NewCapabilities(HookCapabilities()...))))
		}
	}
	return errs
}

// ResolveFault prepares a fault a hook starts during the run: it resolves
// the targets (or the partition's sides) against the plan's topology, as
// Build does for a scheduled fault, and checks them as Validate does. The
// error lists every problem; the schedule (At, Duration) is not checked.
func (p *Plan) ResolveFault(f Fault) (Fault, error) {
	f = p.Topology.resolveFault(f)
	named := f
	if named.ID == "" { // a hook's fault gets its id when it starts
		named.ID = string(f.Kind)
	}
	v := &validator{p: p}
	v.fault(named)
	if len(v.errs) == 0 {
		return f, nil
	}
	msgs := make([]string, len(v.errs))
	for i, e := range v.errs {
		msgs[i] = e.Msg
	}
	return f, errors.New(strings.Join(msgs, "; "))
}
