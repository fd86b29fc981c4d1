// Package starlib is the scenario language of nomosrun: the Starlark
// builtins a scenario calls and the interpreter that runs a script into a
// plan.Plan.
//
// Builtins only record into a plan.Builder. They do no I/O, read no clock and
// start no process; a test checks that the package imports neither the
// runners nor the engine's run phase. Interpretation is bounded by a step
// limit and a context, and its errors are *ScriptError values positioned at
// file:line:col of the script.
//
// The builtins, by family (see Builtins for the generated reference):
//
//	scenario      topology, wallets, run, param, blocks, slots
//	workloads     transactions, da, chaos_restart
//	faults        kill, pause, partition, isolate, latency, clock_skew
//	expectations  expect_liveness, expect_tx_inclusion, expect_da_inclusion,
//	              expect_consensus_agreement, expect_metric, expect_log, expect
//	hooks         every, at, on_block: script functions the engine calls
//	              during the run with a run context (ctx)
//
// go.starlark.net is pinned to one pseudo-version in go.mod (it has no semver
// tags); an upgrade re-runs the .star behaviour tests and the golden plans.
package starlib
