package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/starlib"
)

// The Rust framework's variables (docs/environment.md): the shape they give scenarios
// that opt in, NOMOS_TESTS_TRACING, and one warning for each variable
// nomosrun ignores.

// applyTracing honours NOMOS_TESTS_TRACING=true: nomosrun logs at debug
// level, as with -v, and the nodes, which inherit NOMOS_LOG_LEVEL from
// nomosrun's environment, log at debug level unless it says otherwise.
func (a *app) applyTracing() {
	if !env.TestsTracing.True() {
		return
	}
	a.verbose = true
	a.level.Set(slog.LevelDebug)
	if _, ok := env.LogLevel.Lookup(); !ok {
		os.Setenv(env.LogLevel.Name, "debug")
	}
}

// scenarioShape reads the shape the environment gives scenarios that opt
// in, and warns once about every ignored variable that is set.
func (a *app) scenarioShape() (starlib.Shape, error) {
	for _, w := range env.Warnings() {
		a.warnOnce(w)
	}
	s, err := env.ReadShape()
	if err != nil {
		return starlib.Shape{}, usageError(err)
	}
	return starlib.Shape{Validators: s.Validators, Executors: s.Executors, Run: s.Run, From: s.From}, nil
}

// warnNotOptedIn warns once for every variable of shape that the scenario
// at file did not take, saying how it would.
func (a *app) warnNotOptedIn(file string, shape starlib.Shape, in starlib.OptedIn) {
	topo := map[string]bool{"validators": shape.Validators != nil, "executors": shape.Executors != nil}
	for _, field := range []string{"validators", "executors"} {
		if topo[field] && !in.Topology {
			a.warnOnce(fmt.Sprintf("%s is ignored: %s does not opt in with topology(from_env=True)", shape.From[field], file))
		}
	}
	if shape.Run != nil && !in.Run {
		a.warnOnce(fmt.Sprintf("%s is ignored: %s does not opt in with run(from_env=True)", shape.From["run"], file))
	}
}

// warnOnce prints a warning line, once per run of nomosrun.
func (a *app) warnOnce(msg string) {
	a.warnMu.Lock()
	defer a.warnMu.Unlock()
	if a.warned == nil {
		a.warned = map[string]bool{}
	}
	if a.warned[msg] {
		return
	}
	a.warned[msg] = true
	fmt.Fprintf(a.stderr, "nomosrun: warning: %s\n", msg)
}

// overlay returns base with the fields top sets replaced.
func overlay(base, top starlib.Shape) starlib.Shape {
	from := map[string]string{}
	for k, v := range base.From {
		from[k] = v
	}
	for k, v := range top.From {
		from[k] = v
	}
	if top.Validators != nil {
		base.Validators = top.Validators
	}
	if top.Executors != nil {
		base.Executors = top.Executors
	}
	if top.Run != nil {
		base.Run = top.Run
	}
	base.From = from
	return base
}
