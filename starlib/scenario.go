package starlib

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// maxNodes bounds the topology: far above what any machine runs, low enough
// that a typo cannot make the planner allocate millions of nodes.
const maxNodes = 5000

var scenarioBuiltins = []entry{
	{"topology", `topology(validators=1, executors=0, network="star", slot="2s", active_slot_coeff=0.9, security_param=10, node="reference", node_binary=None, image=None, from_env=False)`,
		"Declares the cluster shape and consensus parameters, once. network is \"star\", \"chain\" or \"full\". " +
			"node is the node kind (docs/node-kinds.md): \"reference\", the built-in reference node, or \"cometbft\". " +
			"from_env=True lets NOMOS_DEMO_VALIDATORS, NOMOS_DEMO_EXECUTORS and COMPOSE_NODE_PAIRS override validators and executors (docs/environment.md). " +
			"Returns a struct with the node names: .validators, .executors and .nodes (lists).",
		ClassStep, topology},
	{"wallets", `wallets(n, funds=100)`,
		"Seeds n wallet accounts with funds each in the genesis ledger; the transactions workload spends from them.",
		ClassStep, wallets},
	{"run", `run(duration=None, blocks=None, allow_no_expectations=False, from_env=False)`,
		"Sets the run window, in wall time or in blocks (exactly one). Windows shorter than 2 blocks are clamped with a warning. " +
			"from_env=True lets NOMOS_DEMO_RUN_SECS override the window (docs/environment.md). " +
			"Without run() the window is 60s. A scenario must declare at least one expectation, or a run could only pass " +
			"vacuously; allow_no_expectations=True says on purpose that this one checks nothing (a smoke test of deploy and teardown).",
		ClassStep, run},
	{"param", `param(name, default)`,
		"Returns the value of --set name=value converted to the type of default (string, int, float or bool), or default. " +
			"Every --set name must be declared by a param() call.",
		ClassValue, param},
	{"blocks", `blocks(n)`, "A protocol-time span of n blocks (n × the block interval, slot / active_slot_coeff), for at= and duration=.",
		ClassValue, spanBuiltin},
	{"slots", `slots(n)`, "A protocol-time span of n slots, for at= and duration=.", ClassValue, spanBuiltin},
}

func topology(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	t := plan.DefaultTopology()
	slot := durationArg{d: plan.DefaultSlot}
	var nodeBinary, image, node string
	var fromEnv bool
	coeff := floatArg(t.ActiveSlotCoeff)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"validators?", &t.Validators, "executors?", &t.Executors, "network?", &t.Network, "slot?", &slot,
		"active_slot_coeff?", &coeff, "security_param?", &t.SecurityParam,
		"node?", &node, "node_binary??", &nodeBinary, "image??", &image, "from_env?", &fromEnv); err != nil {
		return nil, err
	}
	if fromEnv {
		s.optedIn.Topology = true
		if v := s.shape.Validators; v != nil {
			t.Validators = *v
			s.builder.SetParam(s.shape.from("validators"), strconv.Itoa(*v))
		}
		if e := s.shape.Executors; e != nil {
			t.Executors = *e
			s.builder.SetParam(s.shape.from("executors"), strconv.Itoa(*e))
		}
	}
	t.ActiveSlotCoeff = float64(coeff)
	switch {
	case t.Validators < 0 || t.Executors < 0:
		return nil, argError(b, "validators and executors must not be negative")
	case t.Validators+t.Executors > maxNodes:
		return nil, argError(b, "%d nodes is more than the limit of %d", t.Validators+t.Executors, maxNodes)
	case t.Network != plan.NetworkStar && t.Network != plan.NetworkChain && t.Network != plan.NetworkFull:
		return nil, argError(b, "unknown network %q; want \"star\", \"chain\" or \"full\"", t.Network)
	case slot.d <= 0:
		return nil, argError(b, "slot must be positive, got %s", slot.d)
	case !(t.ActiveSlotCoeff > 0 && t.ActiveSlotCoeff <= 1):
		return nil, argError(b, "active_slot_coeff must be in (0, 1], got %g", t.ActiveSlotCoeff)
	case t.SecurityParam < 1:
		return nil, argError(b, "security_param must be at least 1, got %d", t.SecurityParam)
	}
	if node == "reference" {
		node = "" // the default kind, as plans without node= have it
	}
	t.Slot, t.Node, t.NodeBinary, t.Image, t.Pos = plan.Duration(slot.d), node, nodeBinary, image, callerPos(thread)
	if err := s.builder.SetTopology(t); err != nil {
		return nil, argError(b, "%v", err)
	}
	return topologyValue(s.builder.Topology()), nil
}

// topologyValue is what topology() returns: frozen lists of node names.
func topologyValue(t plan.Topology) starlark.Value {
	var all, vals, execs []starlark.Value
	for _, n := range t.Nodes {
		v := starlark.String(n.Name)
		all = append(all, v)
		if n.Role == plan.RoleValidator {
			vals = append(vals, v)
		} else {
			execs = append(execs, v)
		}
	}
	st := starlarkstruct.FromStringDict(starlark.String("topology"), starlark.StringDict{
		"nodes": starlark.NewList(all), "validators": starlark.NewList(vals), "executors": starlark.NewList(execs),
	})
	st.Freeze()
	return st
}

func wallets(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var n int
	funds := plan.DefaultFunds
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n, "funds?", &funds); err != nil {
		return nil, err
	}
	switch {
	case n < 1:
		return nil, argError(b, "wallet count must be at least 1, got %d", n)
	case n > 1_000_000:
		return nil, argError(b, "%d wallets is more than the limit of 1000000", n)
	case funds < 1:
		return nil, argError(b, "funds must be at least 1 per wallet, got %d", funds)
	}
	if err := s.builder.SetWallets(plan.Wallets{Count: n, Funds: uint64(funds), Pos: callerPos(thread)}); err != nil {
		return nil, argError(b, "%v", err)
	}
	return starlark.None, nil
}

func run(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var dur durationArg
	var blocks starlark.Value = starlark.None
	var noExpect, fromEnv bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "duration??", &dur, "blocks??", &blocks,
		"allow_no_expectations?", &noExpect, "from_env?", &fromEnv); err != nil {
		return nil, err
	}
	if fromEnv {
		s.optedIn.Run = true
		if d := s.shape.Run; d != nil {
			// The environment's window replaces the script's, in either form.
			dur, blocks = durationArg{d: *d, set: true}, starlark.None
			s.builder.SetParam(s.shape.from("run"), strconv.Itoa(int(d.Seconds())))
		}
	}
	r := plan.Run{Pos: callerPos(thread), NoExpectations: noExpect}
	switch {
	case dur.set && blocks != starlark.None:
		return nil, argError(b, "give duration or blocks, not both")
	case dur.set:
		if dur.d < 0 {
			return nil, argError(b, "duration must not be negative, got %s", dur.d)
		}
		r.Duration = plan.Duration(dur.d)
	case blocks != starlark.None:
		n, err := starlark.AsInt32(blocks)
		if err != nil || n < 1 {
			return nil, argError(b, "blocks must be a positive integer, got %s", blocks)
		}
		r.Blocks = n
	default:
		return nil, argError(b, "give the run window: run(duration=\"60s\") or run(blocks=30)")
	}
	if err := s.builder.SetRun(r); err != nil {
		return nil, argError(b, "%v", err)
	}
	return starlark.None, nil
}

func spanBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n int
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &n); err != nil {
		return nil, err
	}
	if n < 1 || n > math.MaxInt32 {
		return nil, argError(b, "count must be a positive integer, got %d", n)
	}
	if b.Name() == "blocks" {
		return spanValue{plan.Span{Blocks: n}}, nil
	}
	return spanValue{plan.Span{Slots: n}}, nil
}

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// params tracks the --set values and the param() declarations.
type params struct {
	set      map[string]string
	declared map[string]declaredParam
}

type declaredParam struct {
	def starlark.Value
	pos plan.Pos
}

func param(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var name string
	var def starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "default", &def); err != nil {
		return nil, err
	}
	if !paramName.MatchString(name) {
		return nil, argError(b, "invalid param name %q; use letters, digits, '_', '-' or '.'", name)
	}
	pos := callerPos(thread)
	if d, ok := s.params.declared[name]; ok {
		if eq, err := starlark.Equal(d.def, def); err != nil || !eq {
			return nil, fmt.Errorf("param %q already declared at %s with default %s", name, d.pos, d.def)
		}
	}
	s.params.declared[name] = declaredParam{def: def, pos: pos}
	val := def
	if raw, ok := s.params.set[name]; ok {
		val, err = convertParam(raw, def)
		if err != nil {
			return nil, fmt.Errorf("param %q: --set %s=%s: %v", name, name, raw, err)
		}
	} else if _, ok := def.(starlark.String); !ok {
		if _, err := convertParam(def.String(), def); err != nil {
			return nil, fmt.Errorf("param %q: %v", name, err)
		}
	}
	if str, ok := val.(starlark.String); ok {
		s.builder.SetParam(name, string(str))
	} else {
		s.builder.SetParam(name, val.String())
	}
	return val, nil
}

// convertParam converts a --set value to the type of the param's default.
func convertParam(raw string, def starlark.Value) (starlark.Value, error) {
	switch def.(type) {
	case starlark.String:
		return starlark.String(raw), nil
	case starlark.Bool:
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("cannot convert %q to bool (want true or false)", raw)
		}
		return starlark.Bool(v), nil
	case starlark.Int:
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cannot convert %q to int", raw)
		}
		return starlark.MakeInt64(v), nil
	case starlark.Float:
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("cannot convert %q to float", raw)
		}
		return starlark.Float(v), nil
	}
	return nil, fmt.Errorf("default must be a string, int, float or bool, got %s", def.Type())
}
