package starlib

import (
	"fmt"
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
		ClassStep, scheduled(parseKill)},
	{"pause", `pause(nodes, at=None, duration=None)`,
		"Freezes the node processes, then resumes them." + nodesDoc + windowDoc, ClassStep, scheduled(parseWindow)},
	{"partition", `partition(groups, at=None, duration=None, via=None)`,
		"Cuts the network into groups (each a list of node names or a role); a single group is cut off from all other nodes. " +
			"Heals after duration." + windowDoc + viaDoc,
		ClassStep, scheduled(parsePartition)},
	{"isolate", `isolate(nodes, at=None, duration=None, via=None)`,
		"Cuts the nodes off from every peer." + nodesDoc + windowDoc + viaDoc, ClassStep, scheduled(parseWindow)},
	{"latency", `latency(nodes, delay, jitter="0s", loss=0.0, at=None, duration=None, via=None)`,
		"Delays (delay ± jitter) and drops (loss, a fraction in [0, 1]) what the nodes send to every other node." + nodesDoc + windowDoc + viaDoc,
		ClassStep, scheduled(parseLatency)},
	{"inject_bug", `inject_bug(nodes, bug, at=None, duration=None)`,
		"Test-only: switches on a deliberate protocol bug in the reference node, to prove that a checker fails on a real " +
			"violation. bug is one of \"stop_proposing\" (never proposes), \"stop_applying\" (applies no block: its chain " +
			"freezes), \"revert_finalized\" (ignores the k-deep rule, so its LIB can move back), \"drop_transactions\" " +
			"(accepts transactions, then discards them) or \"drop_da_shares\" (an executor's dispersals never become " +
			"available). Unlike a fault, a bug is the node's own defect: expectations never excuse its targets." +
			nodesDoc + windowDoc,
		ClassStep, scheduled(parseBug)},
	{"clock_skew", `clock_skew(nodes, offset, at=None)`,
		"Shifts the nodes' clocks by offset (may be negative, e.g. \"-2s\") from at until the run ends." + nodesDoc,
		ClassStep, scheduled(parseClockSkew)},
}

// faultParser turns the arguments of a fault call into a plan.Fault. The
// top-level builtins and the run context's actions share these parsers, so
// a fault reads the same in both places: scheduled says whether the call
// schedules the fault (it takes at=) or starts it now (it does not).
type faultParser func(name string, args starlark.Tuple, kwargs []starlark.Tuple, scheduled bool) (plan.Fault, error)

// scheduled makes the top-level builtin of a fault kind: it records the
// parsed fault in the plan, at the call's position.
func scheduled(parse faultParser) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s, err := stateFrom(thread)
		if err != nil {
			return nil, argError(b, "%v", err)
		}
		f, err := parse(b.Name(), args, kwargs, true)
		if err != nil {
			return nil, err
		}
		f.Pos = callerPos(thread)
		id, err := s.builder.AddFault(f)
		if err != nil {
			return nil, argError(b, "%v", err)
		}
		return starlark.String(id), nil
	}
}

// window lists the at= (when scheduled) and duration= parameters, in the
// order the signatures give them.
func window(scheduled bool, at, dur *spanArg) []any {
	var out []any
	if scheduled {
		out = append(out, "at??", at)
	}
	return append(out, "duration??", dur)
}

// unpack is starlark.UnpackArgs with the parameter pairs in a slice.
func unpack(name string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...[]any) error {
	var all []any
	for _, p := range pairs {
		all = append(all, p...)
	}
	return starlark.UnpackArgs(name, args, kwargs, all...)
}

func nameError(name, format string, args ...any) error {
	return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
}

// viaArg is the via= argument of a network fault: "kernel", "node" or None.
type viaArg struct{ via plan.Via }

// Unpack implements starlark.Unpacker.
func (v *viaArg) Unpack(x starlark.Value) error {
	if x == starlark.None {
		return nil
	}
	s, ok := starlark.AsString(x)
	if !ok || (s != string(plan.ViaKernel) && s != string(plan.ViaNode)) {
		return fmt.Errorf(`want "kernel", "node" or None, got %s`, x.String())
	}
	v.via = plan.Via(s)
	return nil
}

const viaDoc = ` via="kernel" applies it in the kernel, outside the node (network namespaces, nftables, netem), via="node" ` +
	`through the node's testing API; None takes the kernel where the runner's network allows it, else the node.`

const positiveDuration = "duration must be positive; use None to last until the run ends"

func parseKill(name string, args starlark.Tuple, kwargs []starlark.Tuple, sched bool) (plan.Fault, error) {
	var nodes selectorArg
	var at, restart spanArg
	pairs := []any{"nodes", &nodes}
	if sched {
		pairs = append(pairs, "at??", &at)
	}
	if err := unpack(name, args, kwargs, pairs, []any{"restart_after??", &restart}); err != nil {
		return plan.Fault{}, err
	}
	if restart.set && restart.span.IsZero() {
		return plan.Fault{}, nameError(name, "restart_after must be positive; use None to leave the nodes down")
	}
	return plan.Fault{Kind: plan.FaultKill, Targets: nodes.sel, At: at.span, Kill: &plan.KillParams{RestartAfter: restart.span}}, nil
}

// parseWindow parses pause and isolate: targets plus a window (and, for
// isolate, a network fault, via=).
func parseWindow(name string, args starlark.Tuple, kwargs []starlark.Tuple, sched bool) (plan.Fault, error) {
	var nodes selectorArg
	var at, dur spanArg
	var via viaArg
	pairs := [][]any{{"nodes", &nodes}, window(sched, &at, &dur)}
	if plan.FaultKind(name).IsNetwork() {
		pairs = append(pairs, []any{"via?", &via})
	}
	if err := unpack(name, args, kwargs, pairs...); err != nil {
		return plan.Fault{}, err
	}
	if dur.set && dur.span.IsZero() {
		return plan.Fault{}, nameError(name, positiveDuration)
	}
	return plan.Fault{Kind: plan.FaultKind(name), Targets: nodes.sel, At: at.span, Duration: dur.span, Via: via.via}, nil
}

func parsePartition(name string, args starlark.Tuple, kwargs []starlark.Tuple, sched bool) (plan.Fault, error) {
	var groups groupsArg
	var at, dur spanArg
	var via viaArg
	if err := unpack(name, args, kwargs, []any{"groups", &groups}, window(sched, &at, &dur), []any{"via?", &via}); err != nil {
		return plan.Fault{}, err
	}
	if dur.set && dur.span.IsZero() {
		return plan.Fault{}, nameError(name, positiveDuration)
	}
	return plan.Fault{Kind: plan.FaultPartition, Partition: &plan.PartitionParams{GroupSpecs: groups.specs},
		At: at.span, Duration: dur.span, Via: via.via}, nil
}

func parseLatency(name string, args starlark.Tuple, kwargs []starlark.Tuple, sched bool) (plan.Fault, error) {
	var nodes selectorArg
	var delay, jitter durationArg
	var lossArg floatArg
	var at, dur spanArg
	var via viaArg
	if err := unpack(name, args, kwargs, []any{"nodes", &nodes, "delay", &delay, "jitter?", &jitter, "loss?", &lossArg},
		window(sched, &at, &dur), []any{"via?", &via}); err != nil {
		return plan.Fault{}, err
	}
	loss := float64(lossArg)
	switch {
	case delay.d < 0 || jitter.d < 0:
		return plan.Fault{}, nameError(name, "delay and jitter must not be negative")
	case delay.d == 0 && loss == 0:
		return plan.Fault{}, nameError(name, "delay is 0 and loss is 0: nothing to inject; set delay=\"200ms\" or loss=0.1")
	case !(loss >= 0 && loss <= 1) || math.IsNaN(loss):
		return plan.Fault{}, nameError(name, "loss must be a fraction in [0, 1], got %g", loss)
	case dur.set && dur.span.IsZero():
		return plan.Fault{}, nameError(name, positiveDuration)
	}
	return plan.Fault{Kind: plan.FaultLatency, Targets: nodes.sel, At: at.span, Duration: dur.span, Via: via.via,
		Latency: &plan.LatencyParams{Delay: plan.Duration(delay.d), Jitter: plan.Duration(jitter.d), Loss: loss}}, nil
}

// parseClockSkew parses clock_skew. Scheduled, it lasts until the run ends;
// started by a hook, it may have a duration (or be healed with ctx.heal).
func parseClockSkew(name string, args starlark.Tuple, kwargs []starlark.Tuple, sched bool) (plan.Fault, error) {
	var nodes selectorArg
	var offset durationArg
	var at, dur spanArg
	when := []any{"duration??", &dur}
	if sched {
		when = []any{"at??", &at}
	}
	if err := unpack(name, args, kwargs, []any{"nodes", &nodes, "offset", &offset}, when); err != nil {
		return plan.Fault{}, err
	}
	switch {
	case offset.d == 0:
		return plan.Fault{}, nameError(name, "offset is 0: nothing to shift; set offset=\"2s\" or \"-2s\"")
	case dur.set && dur.span.IsZero():
		return plan.Fault{}, nameError(name, positiveDuration)
	}
	return plan.Fault{Kind: plan.FaultClockSkew, Targets: nodes.sel, At: at.span, Duration: dur.span,
		ClockSkew: &plan.ClockSkewParams{Offset: plan.Duration(offset.d)}}, nil
}

func parseBug(name string, args starlark.Tuple, kwargs []starlark.Tuple, sched bool) (plan.Fault, error) {
	var nodes selectorArg
	var bug string
	var at, dur spanArg
	if err := unpack(name, args, kwargs, []any{"nodes", &nodes, "bug", &bug}, window(sched, &at, &dur)); err != nil {
		return plan.Fault{}, err
	}
	switch {
	case !slices.Contains(plan.Bugs, bug):
		return plan.Fault{}, nameError(name, "unknown bug %q; want one of %s", bug, strings.Join(plan.Bugs, ", "))
	case dur.set && dur.span.IsZero():
		return plan.Fault{}, nameError(name, positiveDuration)
	}
	return plan.Fault{Kind: plan.FaultBug, Targets: nodes.sel, At: at.span, Duration: dur.span, Bug: &plan.BugParams{Name: bug}}, nil
}
