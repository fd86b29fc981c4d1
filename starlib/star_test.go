package starlib

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/startest"
)

// allCaps is a runner that can do everything, so .star tests see only the
// plan's own problems (capability errors have their own Go test).
var allCaps = plan.NewCapabilities(plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapIsolate,
	plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapLogs, plan.CapDA)

// currentPlan is current_plan(): the plan built so far, as a frozen dict
// with the keys of the plan's JSON, for assertions in .star tests.
func currentPlan(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, err
	}
	return planValue(s.builder.Build())
}

func planValue(p *plan.Plan) (starlark.Value, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	v, err := ToStarlark(x)
	if err != nil {
		return nil, err
	}
	v.Freeze()
	return v, nil
}

// testFS holds testdata/lib so chunks can load() shared modules.
func testFS(t *testing.T) fstest.MapFS {
	m := fstest.MapFS{}
	err := filepath.WalkDir("testdata/lib", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		m[filepath.ToSlash(strings.TrimPrefix(p, "testdata/"))] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return m
}

// TestStarFiles runs testdata/*.star: each chunk is interpreted and, if that
// succeeds, validated; errors of both phases must match the ### annotations
// of their lines. "# set: name=value" lines give --set values; "# caps: a,b"
// the runner's capabilities (default: all); "# call: h1 h2 h1" calls those
// hooks in order after validation, on a fake run (fakeRun), and
// "# hook_steps: n" bounds each call.
func TestStarFiles(t *testing.T) {
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.star")
	if len(files) == 0 {
		t.Fatal("no testdata/*.star")
	}
	base := testFS(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			name := filepath.Base(file)
			for _, c := range startest.Read(file, t) {
				fsys := fstest.MapFS{name: {Data: []byte(c.Source)}}
				for k, v := range base {
					fsys[k] = v
				}
				set := map[string]string{}
				for _, kv := range c.Directive("set") {
					k, v, _ := strings.Cut(kv, "=")
					set[k] = v
				}
				fake := &fakeRun{}
				opts := Options{Set: set, Seed: plan.DefaultSeed, Logger: slog.New(slog.DiscardHandler),
					extra: starlark.StringDict{"assert": assert["assert"], "current_plan": starlark.NewBuiltin("current_plan", currentPlan),
						"fake_actions": fake.actionsBuiltin()},
					setup: func(th *starlark.Thread) { starlarktest.SetReporter(th, t) }}
				for _, n := range c.Directive("hook_steps") {
					opts.HookSteps, _ = strconv.ParseUint(n, 10, 64)
				}
				caps := allCaps
				for _, list := range c.Directive("caps") {
					caps = plan.Capabilities{}
					for _, name := range strings.Split(list, ",") {
						caps[plan.Capability(strings.TrimSpace(name))] = true
					}
				}
				res, err := Interpret(context.Background(), fsys, "", name, opts)
				if err == nil {
					// The language tests check scripts, not the verdict rule (see plan tests).
					err = res.Plan.ValidateDeployOn("the runner", caps)
				}
				for _, ids := range c.Directive("call") {
					if err == nil {
						err = callHooks(context.Background(), res, fake, strings.Fields(ids))
					}
				}
				reportErrors(c, err)
				c.Done()
			}
		})
	}
}

// reportErrors hands every error of err to the chunk, by line.
func reportErrors(c *startest.Chunk, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			reportErrors(c, e)
		}
		return
	}
	var se *ScriptError
	var pe *plan.PlanError
	switch {
	case errors.As(err, &se):
		c.GotError(int(se.Pos.Line), se.Msg)
	case errors.As(err, &pe):
		c.GotError(int(pe.Pos.Line), pe.Msg)
	default:
		c.GotError(0, err.Error())
	}
}
