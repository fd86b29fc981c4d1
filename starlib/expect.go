package starlib

import (
	"math"
	"regexp"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

var expectBuiltins = []entry{
	{"expect_liveness", `expect_liveness(tolerance=0.8, lag=2, max_stall=8)`,
		"Judged on the recorded history: the chain grows by at least tolerance × the blocks expected in the run window " +
			"(window / slot × active_slot_coeff; the cooldown does not count); at evaluation every validator is Online and " +
			"within lag blocks of the best height; and no validator stops following the chain for more than max_stall " +
			"expected block intervals inside the window, except while a fault targets it (plus the same span to catch up).",
		ClassStep, expectLiveness},
	{"expect_tx_inclusion", `expect_tx_inclusion(min_ratio=0.5)`,
		"At least min_ratio of the planned transactions are included. Replaces the one transactions() attaches.",
		ClassStep, expectInclusion},
	{"expect_da_inclusion", `expect_da_inclusion(min_ratio=0.8)`,
		"At least min_ratio of the planned inscriptions and blobs are included. Replaces the one da() attaches.",
		ClassStep, expectInclusion},
	{"expect_consensus_agreement", `expect_consensus_agreement()`,
		"Safety: all nodes agree on the last irreversible block and no finalized fork is seen.",
		ClassStep, expectAgreement},
	{"expect_metric", `expect_metric(query, op, value)`,
		"A Prometheus query compared with value after the run; op is one of <, <=, >, >=, ==, !=.",
		ClassStep, expectMetric},
	{"expect_log", `expect_log(node, pattern)`,
		"A line of the log of every selected node matches the regular expression pattern (RE2 syntax); a node whose log has no match, or that has no log, fails it.",
		ClassStep, expectLog},
	{"expect", `expect(fn, name=None)`,
		"A custom expectation: fn(snapshot) is called after the run with a read-only snapshot (a dict of the nodes' end state, " +
			"the chain, workload counts, and under \"history\" every height poll, the canonical chain, the timeline and the " +
			"series hooks recorded) and returns True/False or (bool, message), or calls fail(message). It may not do I/O " +
			"or call scenario builtins. name defaults to the function's name.",
		ClassStep, expectCustom},
}

func expectLiveness(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	tolArg, lag, stallArg := floatArg(0.8), 2, floatArg(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tolerance?", &tolArg, "lag?", &lag, "max_stall?", &stallArg); err != nil {
		return nil, err
	}
	if stall := float64(stallArg); stall != 0 && !(stall >= 1 && stall <= 1_000_000) {
		return nil, argError(b, "max_stall must be at least 1 expected block interval, got %g", stall)
	}
	tol := float64(tolArg)
	if !(tol > 0 && tol <= 1) {
		return nil, argError(b, "tolerance must be in (0, 1], got %g", tol)
	}
	if lag < 0 || lag > 1_000_000 {
		return nil, argError(b, "lag must be a non-negative number of blocks, got %d", lag)
	}
	return addExpect(b, s, plan.Expectation{Kind: plan.ExpectLiveness, Pos: callerPos(thread),
		Liveness: &plan.LivenessParams{Tolerance: tol, Lag: lag, MaxStall: float64(stallArg)}})
}

func expectInclusion(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	kind, ratio := plan.ExpectTxInclusion, plan.DefaultTxMinRatio
	if b.Name() == "expect_da_inclusion" {
		kind, ratio = plan.ExpectDAInclusion, plan.DefaultDAMinRatio
	}
	ratioArg := floatArg(ratio)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "min_ratio?", &ratioArg); err != nil {
		return nil, err
	}
	ratio = float64(ratioArg)
	if !(ratio > 0 && ratio <= 1) {
		return nil, argError(b, "min_ratio must be in (0, 1], got %g", ratio)
	}
	return addExpect(b, s, plan.Expectation{Kind: kind, Pos: callerPos(thread), Inclusion: &plan.InclusionParams{MinRatio: ratio}})
}

func expectAgreement(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return addExpect(b, s, plan.Expectation{Kind: plan.ExpectAgreement, Pos: callerPos(thread)})
}

func expectMetric(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var query, op string
	var valueArg floatArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "query", &query, "op", &op, "value", &valueArg); err != nil {
		return nil, err
	}
	value := float64(valueArg)
	cmpOp, opErr := plan.ParseCompareOp(op)
	switch {
	case query == "":
		return nil, argError(b, "query is empty; give a Prometheus expression such as \"nomos_blocks_produced_total\"")
	case opErr != nil:
		return nil, argError(b, "%v", opErr)
	case math.IsNaN(value) || math.IsInf(value, 0):
		return nil, argError(b, "value must be a finite number")
	}
	return addExpect(b, s, plan.Expectation{Kind: plan.ExpectMetric, Pos: callerPos(thread),
		Metric: &plan.MetricParams{Query: query, Op: cmpOp, Value: value}})
}

func expectLog(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var node selectorArg
	var pattern string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "node", &node, "pattern", &pattern); err != nil {
		return nil, err
	}
	if pattern == "" {
		return nil, argError(b, "pattern is empty")
	}
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, argError(b, "invalid pattern: %v", err)
	}
	return addExpect(b, s, plan.Expectation{Kind: plan.ExpectLog, Pos: callerPos(thread),
		Log: &plan.LogParams{Targets: node.sel, Pattern: pattern}})
}

func expectCustom(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	var fn starlark.Callable
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "name??", &name); err != nil {
		return nil, err
	}
	f, ok := fn.(*starlark.Function)
	if !ok {
		return nil, argError(b, "fn must be a function defined in the scenario, got %s", fn.Type())
	}
	if f.NumParams() < 1 && !f.HasVarargs() {
		return nil, argError(b, "fn %s must take one parameter, the snapshot", f.Name())
	}
	key, err := s.customs.add(f)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	if name == "" {
		name = f.Name()
	}
	return addExpect(b, s, plan.Expectation{Kind: plan.ExpectCustom, Name: name, Pos: callerPos(thread), Custom: &plan.CustomParams{Func: key}})
}

func addExpect(b *starlark.Builtin, s *state, e plan.Expectation) (starlark.Value, error) {
	id, err := s.builder.AddExpectation(e)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	return starlark.String(id), nil
}
