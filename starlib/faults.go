package starlib

import (
	"math"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

const windowDoc = " at and duration take wall time (\"20s\", seconds) or protocol time (blocks(5), slots(20)); " +
	"at=None is the start of the drive phase, duration=None lasts until the run ends."

const nodesDoc = " nodes is a name (\"validator-1\"), a list of names, \"validators\", \"executors\", \"all\" or an index into the topology order."

var faultBuiltins = []entry{
	{"kill", `kill(nodes, at=None, restart_after=None)`,
		"Crashes the nodes (SIGKILL-style) at the given time, and starts them again restart_after later if set." + nodesDoc,
		ClassStep, kill},
	{"pause", `pause(nodes, at=None, duration=None)`,
		"Freezes the node processes, then resumes them." + nodesDoc + windowDoc, ClassStep, windowFault},
	{"partition", `partition(groups, at=None, duration=None)`,
		"Cuts the network into groups (each a list of node names or a role); a single group is cut off from all other nodes. " +
			"Heals after duration." + windowDoc,
		ClassStep, partition},
	{"isolate", `isolate(nodes, at=None, duration=None)`,
		"Cuts the nodes off from every peer." + nodesDoc + windowDoc, ClassStep, windowFault},
	{"latency", `latency(nodes, delay, jitter="0s", loss=0.0, at=None, duration=None)`,
		"Delays (delay ± jitter) and drops (loss, a fraction in [0, 1]) the messages on the nodes' links." + nodesDoc + windowDoc,
		ClassStep, latency},
	{"inject_bug", `inject_bug(nodes, bug, at=None, duration=None)`,
		"Test-only: switches on a deliberate protocol bug in the reference node, to prove that a checker fails on a real " +
			"violation. bug is one of \"stop_proposing\" (never proposes), \"stop_applying\" (applies no block: its chain " +
			"freezes), \"revert_finalized\" (ignores the k-deep rule, so its LIB can move back), \"drop_transactions\" " +
			"(accepts transactions, then discards them) or \"drop_da_shares\" (an executor's dispersals never become " +
			"available). Unlike a fault, a bug is the node's own defect: expectations never excuse its targets." +
			nodesDoc + windowDoc,
		ClassStep, injectBug},
	{"clock_skew", `clock_skew(nodes, offset, at=None)`,
		"Shifts the nodes' clocks by offset (may be negative, e.g. \"-2s\") from at until the run ends." + nodesDoc,
		ClassStep, clockSkew},
}

func kill(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var nodes selectorArg
	var at, restart spanArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "nodes", &nodes, "at??", &at, "restart_after??", &restart); err != nil {
		return nil, err
	}
	if restart.set && restart.span.IsZero() {
		return nil, argError(b, "restart_after must be positive; use None to leave the nodes down")
	}
	return addFault(b, s, plan.Fault{Kind: plan.FaultKill, Pos: callerPos(thread), Targets: nodes.sel,
		At: at.span, Kill: &plan.KillParams{RestartAfter: restart.span}})
}

// windowFault records pause and isolate: targets plus a window.
func windowFault(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var nodes selectorArg
	var at, dur spanArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "nodes", &nodes, "at??", &at, "duration??", &dur); err != nil {
		return nil, err
	}
	if dur.set && dur.span.IsZero() {
		return nil, argError(b, "duration must be positive; use None to last until the run ends")
	}
	return addFault(b, s, plan.Fault{Kind: plan.FaultKind(b.Name()), Pos: callerPos(thread),
		Targets: nodes.sel, At: at.span, Duration: dur.span})
}

func partition(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var groups groupsArg
	var at, dur spanArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "groups", &groups, "at??", &at, "duration??", &dur); err != nil {
		return nil, err
	}
	if dur.set && dur.span.IsZero() {
		return nil, argError(b, "duration must be positive; use None to last until the run ends")
	}
	return addFault(b, s, plan.Fault{Kind: plan.FaultPartition, Pos: callerPos(thread), Partition: &plan.PartitionParams{GroupSpecs: groups.specs},
		At: at.span, Duration: dur.span})
}

func latency(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var nodes selectorArg
	var delay, jitter durationArg
	var lossArg floatArg
	var at, dur spanArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "nodes", &nodes, "delay", &delay, "jitter?", &jitter,
		"loss?", &lossArg, "at??", &at, "duration??", &dur); err != nil {
		return nil, err
	}
	loss := float64(lossArg)
	switch {
	case delay.d < 0 || jitter.d < 0:
		return nil, argError(b, "delay and jitter must not be negative")
	case delay.d == 0 && loss == 0:
		return nil, argError(b, "delay is 0 and loss is 0: nothing to inject; set delay=\"200ms\" or loss=0.1")
	case !(loss >= 0 && loss <= 1) || math.IsNaN(loss):
		return nil, argError(b, "loss must be a fraction in [0, 1], got %g", loss)
	case dur.set && dur.span.IsZero():
		return nil, argError(b, "duration must be positive; use None to last until the run ends")
	}
	return addFault(b, s, plan.Fault{Kind: plan.FaultLatency, Pos: callerPos(thread), Targets: nodes.sel,
		At: at.span, Duration: dur.span, Latency: &plan.LatencyParams{Delay: plan.Duration(delay.d), Jitter: plan.Duration(jitter.d), Loss: loss}})
}

func clockSkew(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var nodes selectorArg
	var offset durationArg
	var at spanArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "nodes", &nodes, "offset", &offset, "at??", &at); err != nil {
		return nil, err
	}
	if offset.d == 0 {
		return nil, argError(b, "offset is 0: nothing to shift; set offset=\"2s\" or \"-2s\"")
	}
	return addFault(b, s, plan.Fault{Kind: plan.FaultClockSkew, Pos: callerPos(thread), Targets: nodes.sel,
		At: at.span, ClockSkew: &plan.ClockSkewParams{Offset: plan.Duration(offset.d)}})
}

func addFault(b *starlark.Builtin, s *state, f plan.Fault) (starlark.Value, error) {
	id, err := s.builder.AddFault(f)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	return starlark.String(id), nil
}

func injectBug(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var nodes selectorArg
	var bug string
	var at, dur spanArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "nodes", &nodes, "bug", &bug, "at??", &at, "duration??", &dur); err != nil {
		return nil, err
	}
	switch {
	case !slices.Contains(plan.Bugs, bug):
		return nil, argError(b, "unknown bug %q; want one of %s", bug, strings.Join(plan.Bugs, ", "))
	case dur.set && dur.span.IsZero():
		return nil, argError(b, "duration must be positive; use None to last until the run ends")
	}
	return addFault(b, s, plan.Fault{Kind: plan.FaultBug, Pos: callerPos(thread), Targets: nodes.sel,
		At: at.span, Duration: dur.span, Bug: &plan.BugParams{Name: bug}})
}
