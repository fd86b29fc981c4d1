package starlib

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nomosrun/nomosrun/engine/plan"
)

func interpret(t *testing.T, src string, opts Options) (*Result, error) {
	t.Helper()
	return InterpretSource(context.Background(), "s.star", []byte(src), opts)
}

func scriptError(t *testing.T, err error) *ScriptError {
	t.Helper()
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *ScriptError", err, err)
	}
	return se
}

func TestErrorsInLoadedModules(t *testing.T) {
	fsys := testFS(t)
	for _, tc := range []struct{ src, pos, msg string }{
		{`load("lib/cycle_a.star", "a")`, "lib/cycle_b.star:1:1", "load cycle: s.star -> lib/cycle_a.star -> lib/cycle_b.star -> lib/cycle_a.star"},
		{`load("lib/broken.star", "x")`, "lib/broken.star:2:5", `kill: for parameter "at": invalid duration "zz"`},
	} {
		fsys["s.star"] = &fstest.MapFile{Data: []byte(tc.src)}
		_, err := Interpret(context.Background(), fsys, "", "s.star", Options{})
		se := scriptError(t, err)
		if se.Pos.String() != tc.pos || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: got %s: %s, want %s: ...%s", tc.src, se.Pos, se.Msg, tc.pos, tc.msg)
		}
		if !strings.Contains(se.Backtrace, "Traceback") {
			t.Errorf("%s: no backtrace in %q", tc.src, se.Backtrace)
		}
	}
}

func TestRootPrefixesPositions(t *testing.T) {
	fsys := testFS(t)
	fsys["s.star"] = &fstest.MapFile{Data: []byte("load(\"lib/common.star\", \"cluster\")\ncluster(1)\nrun(\"1s\")\n")}
	res, err := Interpret(context.Background(), fsys, "examples", "s.star", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Plan
	if p.Scenario != "examples/s.star" || p.Topology.Pos.File != "examples/lib/common.star" || p.Run.Pos.String() != "examples/s.star:3:4" {
		t.Errorf("positions: scenario %q, topology %s, run %s", p.Scenario, p.Topology.Pos, p.Run.Pos)
	}
}

func TestSyntaxAndResolveErrors(t *testing.T) {
	_, err := interpret(t, "topology(\nrun(", Options{})
	if se := scriptError(t, err); se.Pos.Line != 2 || se.Backtrace != "" {
		t.Errorf("syntax error at %s (backtrace %q)", se.Pos, se.Backtrace)
	}
	_, err = interpret(t, "x = undefined_a\ny = undefined_b\n", Options{})
	var ses []*ScriptError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		ses = append(ses, scriptError(t, e))
	}
	if len(ses) != 2 || ses[1].Pos.Line != 2 || !strings.Contains(ses[1].Msg, "undefined: undefined_b") {
		t.Errorf("resolve errors = %v, want both undefined names", err)
	}
	_, err = interpret(t, "while True:\n  pass\n", Options{})
	if se := scriptError(t, err); !strings.Contains(se.Msg, "does not support while loops") {
		t.Errorf("while: %v", se)
	}
	_, err = interpret(t, "def f(n):\n  return f(n)\nf(1)\n", Options{})
	if se := scriptError(t, err); !strings.Contains(se.Msg, "called recursively") {
		t.Errorf("recursion: %v", se)
	}
}

func TestStepLimitAndCancel(t *testing.T) {
	_, err := interpret(t, "for i in range(10000000):\n  pass\n", Options{MaxSteps: 10000})
	if se := scriptError(t, err); !strings.Contains(se.Msg, "too many steps") {
		t.Errorf("step limit: %v", se)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = InterpretSource(ctx, "s.star", []byte("for i in range(100000000):\n  pass\n"), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestSetParams(t *testing.T) {
	_, err := interpret(t, `param("validators", 1)`+"\n"+`param("rate", 2)`, Options{Set: map[string]string{"valdators": "3", "zz": "1"}})
	var ue *UsageError
	if !errors.As(err, &ue) || ue.Msg != "--set valdators, zz: no such param (declared params: rate, validators)" {
		t.Errorf("err = %v, want a UsageError listing the declared params", err)
	}
	_, err = interpret(t, "run(\"10s\")", Options{Set: map[string]string{"x": "1"}})
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, "the scenario declares no params") {
		t.Errorf("err = %v", err)
	}
}

func TestSeedAndDeterminism(t *testing.T) {
	src := "t = topology(validators=3)\nwallets(5)\ntransactions()\nkill(t.validators[1], at=\"5s\")\nexpect_liveness()\nrun(\"20s\")\n"
	a, err := interpret(t, src, Options{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := interpret(t, src, Options{Seed: 42})
	ja, _ := a.Plan.JSON()
	jb, _ := b.Plan.JSON()
	if string(ja) != string(jb) || a.Plan.Seed != 42 {
		t.Errorf("plans differ or seed lost (seed %d)", a.Plan.Seed)
	}
}

func TestValidateCapabilities(t *testing.T) {
	res, err := interpret(t, "topology(validators=2)\npartition([[\"validator-0\"]])\nexpect_log(\"all\", \"x\")\nkill(\"validator-1\")\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = res.Plan.ValidateOn("host runner", plan.NewCapabilities(plan.CapKill))
	errs := plan.PlanErrors(err)
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2: %v", len(errs), err)
	}
	if errs[0].Pos.Line != 2 || !strings.Contains(errs[0].Msg, `host runner lacks the "partition" capability this step needs (it has: kill)`) ||
		errs[1].Pos.Line != 3 || !strings.Contains(errs[1].Msg, `"logs"`) {
		t.Errorf("errors = %v", err)
	}
	if got := res.Plan.Needs(); len(got) != 3 {
		t.Errorf("Needs = %v, want kill, logs, partition", got)
	}
}

func TestCustomExpectations(t *testing.T) {
	src := `
def ok(s):
    return s["height"] >= 10
def msg(s):
    return (False, "only %d blocks" % s["height"])
def failing(s):
    fail("heights diverge:", s["nodes"])
def bad(s):
    return 3
def mutate(s):
    s["height"] = 0
    return True
def builtin_call(s):
    kill("all")
    return True
def spin(s):
    for i in range(100000000):
        pass
    return True
expect(ok)
expect(msg)
expect(failing)
expect(bad)
expect(mutate)
expect(builtin_call)
expect(spin)
`
	res, err := interpret(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap := map[string]any{"height": 12, "nodes": []string{"validator-0"}}
	ctx := context.Background()
	for _, tc := range []struct {
		fn      string
		ok      bool
		msg     string
		errPart string
	}{
		{"ok", true, "", ""},
		{"msg", false, "only 12 blocks", ""},
		{"failing", false, `heights diverge: ["validator-0"]`, ""},
		{"bad", false, "", "s.star:8:1: script error: custom expectation bad returned int; want True, False or (bool, message)"},
		{"mutate", false, "", "frozen"},
		{"builtin_call", false, "", "not from a hook or a custom expectation"},
		{"nope", false, "", `no custom expectation function "nope"`},
	} {
		ok, msg, err := res.Custom(ctx, tc.fn, snap)
		if ok != tc.ok || msg != tc.msg || (tc.errPart == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errPart)) {
			t.Errorf("%s: got (%v, %q, %v), want (%v, %q, error containing %q)", tc.fn, ok, msg, err, tc.ok, tc.msg, tc.errPart)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := res.Custom(cctx, "spin", snap); err == nil {
		t.Error("spin under a cancelled context: want an error")
	}
}

func TestToStarlark(t *testing.T) {
	type node struct {
		Name   string `json:"name"`
		Height int    `json:"height"`
	}
	v, err := ToStarlark(map[string]any{"nodes": []node{{"validator-0", 7}}, "lib": uint64(3), "f": 0.5, "none": nil, "ok": true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"f": 0.5, "lib": 3, "nodes": [{"height": 7, "name": "validator-0"}], "none": None, "ok": True}`
	if v.String() != want {
		t.Errorf("got %s\nwant %s", v, want)
	}
	if _, err := ToStarlark(map[int]int{1: 1}); err == nil {
		t.Error("int keys: want an error")
	}
	if _, err := ToStarlark(make(chan int)); err == nil {
		t.Error("chan: want an error")
	}
}

func TestBuiltinsTable(t *testing.T) {
	env, err := Predeclared()
	if err != nil {
		t.Fatal(err)
	}
	docs := Builtins()
	globals := 0
	for _, d := range docs {
		if d.Class != ClassContext {
			globals++
			if _, ok := env[d.Name]; !ok {
				t.Errorf("reference of %s, which is no builtin", d.Name)
			}
		}
	}
	if globals != len(env) {
		t.Errorf("%d docs for %d builtins", globals, len(env))
	}
	for _, name := range []string{"topology", "wallets", "transactions", "da", "chaos_restart", "kill", "pause", "partition",
		"isolate", "latency", "clock_skew", "expect_liveness", "expect_tx_inclusion", "expect_da_inclusion",
		"expect_consensus_agreement", "expect_metric", "expect_log", "expect", "run", "param", "blocks", "slots",
		"every", "at", "on_block"} {
		if _, ok := env[name]; !ok {
			t.Errorf("builtin %s missing", name)
		}
	}
	for _, d := range docs {
		if d.Doc == "" || !(d.Signature == d.Name || strings.HasPrefix(d.Signature, d.Name+"(")) || d.Class == "" {
			t.Errorf("builtin %s: incomplete reference %+v", d.Name, d)
		}
	}
}

// TestNoBackendImports enforces that builtins only record: starlib depends
// on neither the runners nor the engine's run phase, nor on exec or HTTP.
func TestNoBackendImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/nomosrun/nomosrun/runners", "github.com/nomosrun/nomosrun/engine/run", "os/exec", "net/http"} {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("starlib depends on %s", dep)
			}
		}
	}
}

func TestBinaryScriptsAreScriptErrors(t *testing.T) {
	fsys := testFS(t)
	fsys["nul.star"] = &fstest.MapFile{Data: []byte("topology(validators = 1)\n\x00run(\"1s\")\n")}
	fsys["latin1.star"] = &fstest.MapFile{Data: []byte("# caf\xe9\nx = 1\n")}
	fsys["loads.star"] = &fstest.MapFile{Data: []byte("load(\"nul.star\", \"x\")\n")}
	for _, tc := range []struct{ name, pos, msg string }{
		{"nul.star", "nul.star:2:1", "a NUL byte at byte offset 25"},
		{"latin1.star", "latin1.star:1:6", "invalid UTF-8 (byte 0xe9) at byte offset 5"},
		{"loads.star", "nul.star:2:1", "a NUL byte at byte offset 25"},
	} {
		res, err := Interpret(context.Background(), fsys, "", tc.name, Options{})
		if res != nil {
			t.Errorf("%s: interpreted as %+v, want a script error", tc.name, res.Plan)
			continue
		}
		se := scriptError(t, err)
		if se.Pos.String() != tc.pos || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: got %s: %s, want %s: ...%s", tc.name, se.Pos, se.Msg, tc.pos, tc.msg)
		}
	}
}

func TestBuiltinNamedOnceInBacktrace(t *testing.T) {
	for _, src := range []string{
		"topology(validators = 1)\nkill(at = \"zz\", nodes = [\"validator-0\"])\n", // UnpackArgs error
		"topology(validators = 1)\nexpect_liveness(tolerance = 2.0)\n",             // argError
	} {
		_, err := interpret(t, src, Options{})
		se := scriptError(t, err)
		name, _, _ := strings.Cut(strings.SplitN(src, "\n", 3)[1], "(")
		if !strings.HasPrefix(se.Msg, name+": ") {
			t.Errorf("message %q does not name the builtin %s", se.Msg, name)
		}
		if want := "Error in " + name + ": " + se.Msg[len(name)+2:]; !strings.Contains(se.Backtrace, want) ||
			strings.Contains(se.Backtrace, name+": "+name+": ") {
			t.Errorf("backtrace:\n%s\nwant the line %q, the builtin named once", se.Backtrace, want)
		}
	}
}
