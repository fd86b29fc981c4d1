package plan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nomosrun/nomosrun/engine/metrics/metricquery"
)

// PlanError is one problem of a plan, at the script position that caused it.
type PlanError struct {
	Pos Pos
	Msg string
}

// Error formats the problem as file:line:col: message.
func (e *PlanError) Error() string { return e.Pos.String() + ": " + e.Msg }

// Validate checks the plan against itself and against the capabilities of
// the runner that will execute it. It returns every problem at once, as an
// errors.Join of *PlanError sorted by position, or nil.
func (p *Plan) Validate(caps Capabilities) error { return p.ValidateOn("the runner", caps) }

// ValidateOn is Validate naming the runner in capability errors.
func (p *Plan) ValidateOn(runner string, caps Capabilities) error {
	return p.validate(runner, caps, true)
}

// ValidateDeployOn is ValidateOn for a plan that is only deployed, never
// judged (nomosrun up): it may have no expectation.
func (p *Plan) ValidateDeployOn(runner string, caps Capabilities) error {
	return p.validate(runner, caps, false)
}

func (p *Plan) validate(runner string, caps Capabilities, judged bool) error {
	v := &validator{p: p}
	v.topology()
	v.workloads()
	v.faults()
	v.expectations()
	v.hooks()
	if judged {
		v.verdict()
	}
	v.capabilities(runner, caps)
	if len(v.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(v.errs, func(a, b *PlanError) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// PlanErrors unpacks the problems of a Validate error.
func PlanErrors(err error) []*PlanError {
	var out []*PlanError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, PlanErrors(e)...)
		}
		return out
	}
	var pe *PlanError
	if errors.As(err, &pe) {
		out = append(out, pe)
	}
	return out
}

type validator struct {
	p    *Plan
	errs []*PlanError
}

func (v *validator) add(pos Pos, format string, args ...any) {
	v.errs = append(v.errs, &PlanError{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) topology() {
	t := v.p.Topology
	if t.Validators < 1 {
		v.add(t.Pos, "the topology has no validators; set topology(validators=1) or more")
	}
}

func (v *validator) workloads() {
	t := v.p.Topology
	for _, w := range v.p.Workloads {
		switch w.Kind {
		case WorkloadTransactions:
			if v.p.Wallets.Count == 0 {
				v.add(w.Pos, "transactions need wallets to spend from; add wallets(n) before the run")
			} else if v.p.Derived.PlannedTxs == 0 {
				v.add(w.Pos, "transactions plan zero transactions for a %s run; raise rate or lengthen run", v.p.Derived.RunDuration)
			}
			if u := w.Transactions.Users; u > 0 && v.p.Wallets.Count > 0 && u > v.p.Wallets.Count {
				v.add(w.Pos, "transactions from %d users but only %d wallets; lower users or add wallets", u, v.p.Wallets.Count)
			}
		case WorkloadDA:
			if t.Executors == 0 {
				v.add(w.Pos, "da needs an executor to disperse blobs; set topology(executors=1) or more")
			}
		case WorkloadChaosRestart:
			c := w.ChaosRestart
			if c.Validators && t.Validators == 1 && !(c.Executors && t.Executors > 0) {
				v.add(w.Pos, "chaos_restart would restart the only validator; add validators (topology(validators=2)) or pass validators=False")
			} else if len(c.Targets) == 0 {
				v.add(w.Pos, "chaos_restart has no node to restart; add nodes to the topology")
			}
		}
	}
}

// fault checks a fault's parameters and nodes; it reports whether its
// window can be checked further.
func (v *validator) fault(f Fault) bool {
	if !v.params(f.Pos, f.ID, f.CheckParams()) {
		return false
	}
	switch {
	case f.Via != ViaAuto && f.Via != ViaKernel && f.Via != ViaNode:
		v.add(f.Pos, "%s: via=%q: want \"kernel\", \"node\" or None (the kernel where the runner can, else the node)", f.ID, f.Via)
	case f.Via != ViaAuto && !f.Kind.IsNetwork():
		v.add(f.Pos, "%s: via= applies to partition, isolate and latency, not %s", f.ID, f.Kind)
	}
	if f.Kind == FaultPartition {
		v.partition(f)
	} else {
		v.selector(f.Pos, string(f.Kind), f.Targets)
	}
	return true
}

func (v *validator) faults() {
	run := v.p.Derived.RunDuration.Std()
	for _, f := range v.p.Faults {
		if !v.fault(f) {
			continue
		}
		at := v.p.Wall(f.At)
		end := at + v.p.Wall(f.Duration)
		if r := f.RestartAfter(); !r.IsZero() {
			end = at + v.p.Wall(r)
		}
		switch {
		case at >= run:
			v.add(f.Pos, "%s starts at %s, after the run ends at %s; move it earlier or lengthen run",
				f.Kind, spanText(f.At, at), run)
		case end > run:
			v.add(f.Pos, "%s window ends at %s, after the run ends at %s; shorten it or lengthen run",
				f.Kind, end, run)
		}
	}
}

// params reports the errors of a fault's or an expectation's CheckParams
// (exactly the parameter field of its kind must be set), and whether the
// entry can be checked further.
func (v *validator) params(pos Pos, id string, errs []error) bool {
	for _, err := range errs {
		v.add(pos, "%s: %v", id, err)
	}
	return len(errs) == 0
}

func (v *validator) partition(f Fault) {
	seen := map[string]int{}
	for i, g := range f.Partition.GroupSpecs {
		v.selector(f.Pos, "partition", g)
		nodes, _ := v.p.Topology.Resolve(g)
		for _, n := range nodes {
			if j, dup := seen[n]; dup && j != i {
				v.add(f.Pos, "partition puts %s in groups %d and %d; each node belongs to one side", n, j+1, i+1)
			}
			seen[n] = i
		}
	}
	sides := 0
	for _, g := range f.Partition.Groups {
		if len(g) > 0 {
			sides++
		}
	}
	if sides < 2 {
		v.add(f.Pos, "partition needs at least two non-empty sides; list the groups or leave some nodes out of a single group")
	}
}

// selector reports the unknown parts of a node selector, with a suggestion.
// A list naming "validators", "executors" or "all" is an unknown node, never
// the role: the hint shows how to write the role.
func (v *validator) selector(pos Pos, what string, s Selector) {
	if n := s.variants(); n != 1 {
		v.add(pos, "%s: the selector sets %d of all, role, names and index; set exactly one", what, n)
		return
	}
	t := v.p.Topology
	nodes, unknown := t.Resolve(s)
	for _, u := range unknown {
		msg := fmt.Sprintf("%s: no node %q in the topology (have %s)", what, u, nodeRange(t))
		switch {
		case selectorWord(u) && what == "partition":
			msg += fmt.Sprintf("; a list always names nodes: to select by role write the group as %q, not [%q]", u, u)
		case selectorWord(u):
			msg += fmt.Sprintf("; a list always names nodes: to select by role write %s(%q)", what, u)
		default:
			if sug := suggest(u, t.Nodes); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			}
		}
		v.errs = append(v.errs, &PlanError{Pos: pos, Msg: msg})
	}
	if len(unknown) == 0 && len(nodes) == 0 {
		v.add(pos, "%s: %q selects no node of the topology", what, s.String())
	}
}

// nodeRange summarises the node names: validator-0..validator-2, executor-0.
func nodeRange(t Topology) string {
	var parts []string
	for _, r := range []struct {
		n    int
		name string
	}{{t.Validators, "validator"}, {t.Executors, "executor"}} {
		switch r.n {
		case 0:
		case 1:
			parts = append(parts, r.name+"-0")
		default:
			parts = append(parts, fmt.Sprintf("%s-0..%s-%d", r.name, r.name, r.n-1))
		}
	}
	if len(parts) == 0 {
		return "no nodes"
	}
	return strings.Join(parts, ", ")
}

func (v *validator) expectations() {
	has := map[WorkloadKind]bool{}
	for _, w := range v.p.Workloads {
		has[w.Kind] = true
	}
	for _, e := range v.p.Expectations {
		if !v.params(e.Pos, e.ID, e.CheckParams()) {
			continue
		}
		switch e.Kind {
		case ExpectTxInclusion:
			// A hook may submit transfers (ctx.transfer): it is a workload then.
			if !has[WorkloadTransactions] && len(v.p.Hooks) == 0 {
				v.add(e.Pos, "expect_tx_inclusion has nothing to check; add transactions(...) or a hook that calls ctx.transfer")
			}
		case ExpectDAInclusion:
			if !has[WorkloadDA] {
				v.add(e.Pos, "expect_da_inclusion has nothing to check; add da(...)")
			}
		case ExpectMetric:
			// The query syntax lives in its own small package (no HTTP,
			// no Prometheus client) so that a malformed query fails here,
			// with its script position, rather than when a run starts.
			if _, err := metricquery.Parse(e.Metric.Query); err != nil {
				v.add(e.Pos, "expect_metric: %v", err)
			}
			if _, err := ParseCompareOp(string(e.Metric.Op)); err != nil {
				v.add(e.Pos, "expect_metric: %v", err)
			}
		case ExpectLog:
			v.selector(e.Pos, "expect_log", e.Log.Targets)
		}
	}
}

// hooks checks each hook's kind, time and uses=, and that a timed hook
// runs within the run window.
func (v *validator) hooks() {
	run := v.p.Derived.RunDuration.Std()
	for _, h := range v.p.Hooks {
		if !v.params(h.Pos, "hook "+h.Describe(), h.check()) {
			continue
		}
		first, what := v.p.Wall(h.At), "starts"
		if h.Kind == HookEvery {
			first, what = v.p.Wall(h.Every), "first runs"
		}
		if h.Kind != HookOnBlock && first >= run {
			v.add(h.Pos, "hook %s %s at %s, after the run ends at %s; make it earlier or lengthen run",
				h.Describe(), what, spanText(cmp.Or(h.At, h.Every), first), run)
		}
	}
}

// verdict rejects a run that checks nothing: its green would mean nothing.
func (v *validator) verdict() {
	if len(v.p.Expectations) > 0 || v.p.Run.NoExpectations {
		return
	}
	pos := v.p.Run.Pos
	if pos.IsZero() {
		pos = v.p.Topology.Pos
	}
	v.add(pos, "the scenario checks nothing, so a run could only pass vacuously; add an expectation "+
		"(expect_liveness(), expect_consensus_agreement(), ...) or say so with run(..., allow_no_expectations=True)")
}

// need is why the plan requires a capability: the first step or hook that
// does, at its position. hook is set when a hook's uses= asks for it.
type need struct {
	pos  Pos
	hook *Hook
}

// needs lists what each part of the plan requires of a runner.
func (p *Plan) needs() map[Capability]need {
	out := map[Capability]need{}
	note := func(c Capability, pos Pos, h *Hook) {
		if _, ok := out[c]; !ok {
			out[c] = need{pos, h}
		}
	}
	for _, w := range p.Workloads {
		switch w.Kind {
		case WorkloadChaosRestart:
			note(CapRestart, w.Pos, nil)
		case WorkloadDA:
			note(CapDA, w.Pos, nil)
		}
	}
	for _, f := range p.Faults {
		if c, ok := faultCaps[f.Kind]; ok { // a bug needs only the node's testing API
			note(c, f.Pos, nil)
		}
		if f.Via == ViaKernel {
			note(CapKernelNetwork, f.Pos, nil)
		}
	}
	for _, e := range p.Expectations {
		if e.Kind == ExpectLog {
			note(CapLogs, e.Pos, nil)
		}
	}
	// A hook's uses= declares what its actions may do; the run refuses any
	// other action, so these are all the capabilities hooks can need.
	for i, h := range p.Hooks {
		for _, c := range h.Uses {
			if _, ok := HookActions[c]; ok { // hooks() reports the others
				note(c, h.Pos, &p.Hooks[i])
			}
		}
	}
	return out
}

var faultCaps = map[FaultKind]Capability{
	FaultKill: CapKill, FaultPause: CapPause, FaultPartition: CapPartition,
	FaultIsolate: CapIsolate, FaultLatency: CapLatency, FaultClockSkew: CapClockSkew,
}

// Needs returns the capabilities the plan requires, in name order.
func (p *Plan) Needs() []Capability {
	caps := Capabilities{}
	for c := range p.needs() {
		caps[c] = true
	}
	return caps.Sorted()
}

func (v *validator) capabilities(runner string, caps Capabilities) {
	needs := v.p.needs()
	var lacking []Capability
	for c := range needs {
		if !caps.Has(c) {
			lacking = append(lacking, c)
		}
	}
	slices.Sort(lacking)
	for _, c := range lacking {
		n := needs[c]
		if n.hook != nil {
			v.add(n.pos, "hook %s uses %s, which %s cannot do (it has: %s); pick another --runner or take %q out of uses=",
				n.hook.Describe(), c, runner, capList(caps), c)
			continue
		}
		v.add(n.pos, "%s lacks the %q capability this step needs (it has: %s); pick another --runner",
			runner, c, capList(caps))
	}
}

func capList(caps Capabilities) string {
	s := caps.Sorted()
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = string(c)
	}
	return strings.Join(parts, ", ")
}
