package starlib

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// DefaultMaxSteps bounds the interpretation of one scenario: generous for
// generated topologies of thousands of nodes, small enough that an endless
// computation fails in about a second.
const DefaultMaxSteps = 50_000_000

// fileOptions is the one place for the dialect: top-level if/for, global
// reassignment and sets; no while loops and no recursion, so every scenario
// terminates.
var fileOptions = &syntax.FileOptions{TopLevelControl: true, GlobalReassign: true, Set: true}

// Options configure Interpret.
type Options struct {
	// Set holds the --set name=value pairs; each name must be declared by a
	// param() call.
	Set map[string]string
	// Seed is recorded in the plan; the CLI defaults it to plan.DefaultSeed.
	Seed int64
	// MaxSteps bounds the Starlark execution steps (0: DefaultMaxSteps).
	MaxSteps uint64
	// HookSteps bounds each call of a hook (0: DefaultHookSteps).
	HookSteps uint64
	// Logger receives print() output (nil: slog.Default()).
	Logger *slog.Logger
	// Shape overrides the topology and run window of a scenario that opts in
	// with topology(from_env=True) and run(from_env=True); the CLI fills it
	// from the Rust framework's variables (NOMOS_DEMO_*, COMPOSE_NODE_PAIRS).
	Shape Shape

	// setup and extra let the package's tests add the assert module.
	setup func(*starlark.Thread)
	extra starlark.StringDict
}

// Result is an interpreted scenario.
type Result struct {
	// Plan is the built plan; call Plan.Validate before running it.
	Plan *plan.Plan
	// Custom evaluates the plan's custom expectations after the run.
	Custom Custom
	// Hooks calls the plan's hooks during one run: every call of the run
	// goes through this Caller, which keeps ctx.state and ctx.rand.
	Hooks hooks.Caller
	// OptedIn says which parts of Options.Shape the scenario took: the
	// topology (topology(from_env=True)) and the run window (run(from_env=True)).
	OptedIn OptedIn
}

// Shape is a topology and run window given from outside the script. A nil
// field is not given.
type Shape struct {
	Validators, Executors *int
	Run                   *time.Duration
	// From names where each field came from ("validators", "executors",
	// "run" to a variable name); applied values are recorded in the plan's
	// params under that name.
	From map[string]string
}

// from is the name an applied field is recorded under in the plan's params.
func (s Shape) from(field string) string {
	if name := s.From[field]; name != "" {
		return name
	}
	return "env." + field
}

// OptedIn says which from_env=True arguments a scenario gave.
type OptedIn struct{ Topology, Run bool }

// InterpretFile interprets the scenario at path. load() reaches files
// relative to the loading file, within the scenario's directory tree.
func InterpretFile(ctx context.Context, file string, opts Options) (*Result, error) {
	dir := filepath.Dir(file)
	if fi, err := os.Stat(file); err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("cannot read scenario: %v", err)}
	} else if fi.IsDir() {
		return nil, &UsageError{Msg: fmt.Sprintf("cannot read scenario: %s is a directory; give a .star file", file)}
	}
	return Interpret(ctx, os.DirFS(dir), filepath.ToSlash(dir), filepath.Base(file), opts)
}

// InterpretSource interprets a scenario given as source, with no other
// files to load (for tests and tools).
func InterpretSource(ctx context.Context, name string, src []byte, opts Options) (*Result, error) {
	return Interpret(ctx, fstest.MapFS{name: {Data: src}}, "", name, opts)
}

// Interpret interprets the scenario name of fsys. root is the display
// prefix of file names in positions ("examples" makes "examples/x.star").
func Interpret(ctx context.Context, fsys fs.FS, root, name string, opts Options) (res *Result, err error) {
	if !fs.ValidPath(name) {
		return nil, &UsageError{Msg: fmt.Sprintf("invalid scenario path %q", name)}
	}
	env, err := Predeclared()
	if err != nil {
		return nil, err
	}
	if opts.extra != nil {
		env = merge(env, opts.extra)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if opts.MaxSteps == 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	display := func(p string) string {
		if root == "" || root == "." {
			return p
		}
		return root + "/" + p
	}
	st := &state{
		builder: plan.NewBuilder(display(name), opts.Seed),
		params:  &params{set: opts.Set, declared: map[string]declaredParam{}},
		shape:   opts.Shape,
		customs: &customs{funcs: map[string]*starlark.Function{}},
		hooks:   map[string]*starlark.Function{},
	}
	l := &loader{fsys: fsys, env: env, display: display, fsPath: map[string]string{}, cache: map[string]*module{}}
	thread := &starlark.Thread{
		Name: "scenario " + name,
		Load: l.load,
		Print: func(t *starlark.Thread, msg string) {
			logger.Info(msg, "pos", callerPosOf(t, 1))
		},
	}
	thread.SetLocal(keyState, st)
	thread.SetMaxExecutionSteps(opts.MaxSteps)
	if opts.setup != nil {
		opts.setup(thread)
	}
	stop := context.AfterFunc(ctx, func() { thread.Cancel(ctx.Err().Error()) })
	defer stop()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := l.exec(thread, name); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interpretation interrupted: %w", ctx.Err())
		}
		return nil, scriptErr(err)
	}
	if err := unknownParams(st.params); err != nil {
		return nil, err
	}
	p := st.builder.Build()
	return &Result{Plan: p, Custom: st.customs.evaluate, Hooks: newHookRun(p, st.hooks, opts.HookSteps, opts.setup), OptedIn: st.optedIn}, nil
}

func merge(a, b starlark.StringDict) starlark.StringDict {
	out := make(starlark.StringDict, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func callerPosOf(t *starlark.Thread, depth int) string {
	if t.CallStackDepth() <= depth {
		return ""
	}
	return t.CallFrame(depth).Pos.String()
}

// loader executes the scenario and the modules it loads: paths relative to
// the loading file, confined to the scenario's tree, each module executed
// once (cached) and cycles reported.
type loader struct {
	fsys    fs.FS
	env     starlark.StringDict
	display func(string) string
	fsPath  map[string]string // display name -> path in fsys
	cache   map[string]*module
	stack   []string
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

func (l *loader) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from := l.fsPath[thread.CallFrame(0).Pos.Filename()]
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return nil, fmt.Errorf("load %q: use a path relative to %s", name, path.Base(from))
	}
	target := path.Join(path.Dir(from), name)
	if !fs.ValidPath(target) {
		return nil, fmt.Errorf("load %q: outside the scenario's directory; keep shared modules under it", name)
	}
	return l.exec(thread, target)
}

// exec runs the module at p (a path in fsys) on thread, so builtins called
// from loaded modules record into the same plan.
func (l *loader) exec(thread *starlark.Thread, p string) (starlark.StringDict, error) {
	if m, ok := l.cache[p]; ok {
		if !m.done {
			return nil, fmt.Errorf("load cycle: %s -> %s", strings.Join(l.stack, " -> "), p)
		}
		return m.globals, m.err
	}
	src, err := fs.ReadFile(l.fsys, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no such file %s", l.display(p))
		}
		return nil, fmt.Errorf("cannot read %s: %v", l.display(p), err)
	}
	disp := l.display(p)
	if err := checkText(disp, src); err != nil {
		return nil, err
	}
	m := &module{}
	l.cache[p] = m
	l.stack = append(l.stack, p)
	l.fsPath[disp] = p
	m.globals, m.err = starlark.ExecFileOptions(fileOptions, thread, disp, src, l.env)
	l.stack = l.stack[:len(l.stack)-1]
	m.done = true
	m.globals.Freeze()
	return m.globals, m.err
}

// checkText rejects a script that is not text: the Starlark scanner stops
// at a NUL byte, so such a file would otherwise read as an empty (or cut
// short) scenario. The error names the file and the byte offset.
func checkText(file string, src []byte) error {
	line, col := 1, 1
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		var what string
		switch {
		case r == 0:
			what = "a NUL byte"
		case r == utf8.RuneError && size == 1:
			what = fmt.Sprintf("invalid UTF-8 (byte 0x%02x)", src[off])
		}
		if what != "" {
			return &ScriptError{
				Pos: plan.Pos{File: file, Line: int32(line), Col: int32(col)},
				Msg: fmt.Sprintf("%s at byte offset %d; a scenario must be UTF-8 text", what, off),
			}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		off += size
	}
	return nil
}
