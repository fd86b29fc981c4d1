// Package archtest checks the dependency direction between the project's
// packages, so the layering of the design cannot erode silently.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/nomosrun/nomosrun"

// rule forbids packages matching from (except those matching skip) to
// depend (directly or not) on packages matching any of deny, except those
// matching allow.
type rule struct {
	from  string
	deny  []string
	why   string
	allow []string
	skip  []string
}

var rules = []rule{
	{"engine/plan", []string{"go.starlark.net", "runners", "engine/run", "starlib"},
		"the plan is plain data shared by every phase", nil, nil},
	{"starlib", []string{"runners", "engine/run", "simnode", "os/exec", "net/http"},
		"builtins only record into a plan: no I/O, no exec, no backend", nil, nil},
	{"engine", []string{"runners/host", "runners/compose", "runners/k8s", "runners/fake", "starlib", "go.starlark.net"},
		"the engine knows runners only through their interfaces", nil, nil},
	{"engine", []string{"simnode"},
		"the engine reads every node through the node API's wire types (nodeapi), never the reference node's own", nil, nil},
	{"runners", []string{"starlib", "go.starlark.net"},
		"runners deploy plans; they do not interpret them", nil, nil},
	// The runners know a node only through its kind (nodekind), whose
	// Client is the engine's node client; nodeimage sets the image's KZG
	// parameter path (simnode/da). The plan parses metric queries with
	// engine/metrics/metricquery, a small parser with no I/O.
	{"runners", []string{"engine", "simnode"},
		"runners know the engine only through the plan, and the node only through its kind",
		[]string{"engine/plan", "engine/metrics/metricquery", "engine/nodeclient", "simnode/da"}, nil},
	{"runners", []string{"nodekind/reference", "nodekind/cometbft"},
		"runners find a node's kind in the registry (package nodekind), never a kind package itself",
		nil, nil},
	// A kind holds what nomosrun knows of one node implementation: it may
	// use that node's own packages (the reference kind its config format),
	// but nothing that drives a run.
	{"nodekind", []string{"runners", "engine", "starlib", "go.starlark.net"},
		"a node kind knows the plan and the node client, not the engine or runners that use it",
		[]string{"engine/plan", "engine/metrics/metricquery", "engine/nodeclient"}, nil},
	// kernelnet manages namespaces, links and kernel faults for any runner;
	// it knows nodes only by name and address.
	{"runners/kernelnet", []string{"engine", "runners", "simnode", "nodeapi", "starlib"},
		"the kernel network layer knows no plan, node or runner", []string{"runners/kernelnet"}, nil},
	{"nodeapi", []string{"simnode", "engine", "runners"},
		"the node API client is shared by the engine and tests and must stay small", nil, nil},
	// A run becomes a trace after the fact, from its events and report
	// (engine/runtrace, with the OpenTelemetry API only); exporters are
	// set up by the commands.
	{"engine", []string{"go.opentelemetry.io"},
		"the engine does not trace; engine/runtrace turns a finished run into spans", nil, []string{"engine/runtrace"}},
	{"engine/runtrace", []string{"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters"},
		"a run's trace is built with the OpenTelemetry API; the commands choose the SDK and exporter", nil, nil},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

// listPackages returns every package of the module with its transitive deps.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func within(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// violations lists every dependency of pkgs that a rule denies.
func violations(pkgs []pkg, rules []rule) []string {
	var out []string
	for _, r := range rules {
		from := module + "/" + r.from
		for _, p := range pkgs {
			if !within(p.ImportPath, from) || matchesAny(p.ImportPath, r.skip) {
				continue
			}
			for _, d := range p.Deps {
				if matchesAny(d, r.allow) {
					continue
				}
				for _, deny := range r.deny {
					if within(d, qualify(deny)) {
						out = append(out, p.ImportPath+" depends on "+d+": "+r.why)
					}
				}
			}
		}
	}
	return out
}

// matchesAny reports whether path is within one of the project-relative
// or qualified paths.
func matchesAny(path string, paths []string) bool {
	for _, p := range paths {
		if within(path, qualify(p)) {
			return true
		}
	}
	return false
}

// qualify turns a project-relative path into an import path; standard
// library and third-party paths stay as they are.
func qualify(path string) string {
	if strings.Contains(path, ".") || strings.HasPrefix(path, "os/") || strings.HasPrefix(path, "net/") {
		return path
	}
	return module + "/" + path
}

func TestDependencyDirection(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	for _, v := range violations(pkgs, rules) {
		t.Error(v)
	}
}

// TestViolationsReported guards the checker itself: a package that depends on
// what a rule denies must be reported, and only then.
func TestViolationsReported(t *testing.T) {
	bad := []pkg{
		{ImportPath: module + "/starlib", Deps: []string{"os/exec", module + "/engine/plan"}},
		{ImportPath: module + "/engine/plan", Deps: []string{"encoding/json"}},
		{ImportPath: module + "/engineering", Deps: []string{"go.starlark.net/starlark"}},
	}
	got := violations(bad, rules)
	if len(got) != 1 || !strings.Contains(got[0], "starlib depends on os/exec") {
		t.Fatalf("violations = %q, want exactly starlib -> os/exec", got)
	}
}

// TestRunnerRules: a runner may use the plan and the node client (through
// a node kind) but not the rest of the engine, the node's own packages or a
// kind package.
func TestRunnerRules(t *testing.T) {
	pkgs := []pkg{
		{ImportPath: module + "/runners/host", Deps: []string{module + "/engine/plan", module + "/nodekind", module + "/simnode/config"}},
		{ImportPath: module + "/runners/k8s", Deps: []string{module + "/engine/run", module + "/engine/nodeclient", module + "/nodekind/cometbft"}},
		{ImportPath: module + "/runners/fake", Deps: []string{module + "/engine/nodeclient", module + "/engine/plan"}},
		{ImportPath: module + "/engine/run", Deps: []string{module + "/runners", module + "/runners/fake", module + "/nodekind"}},
		{ImportPath: module + "/runners/kernelnet", Deps: []string{module + "/engine/plan", "github.com/google/nftables"}},
		{ImportPath: module + "/nodekind/cometbft", Deps: []string{module + "/engine/nodeclient", module + "/engine/feed"}},
	}
	got := strings.Join(violations(pkgs, rules), "\n")
	for _, want := range []string{"runners/host depends on " + module + "/simnode/config",
		"runners/k8s depends on " + module + "/engine/run", "runners/k8s depends on " + module + "/nodekind/cometbft",
		"engine/run depends on " + module + "/runners/fake",
		"runners/kernelnet depends on " + module + "/engine/plan",
		"nodekind/cometbft depends on " + module + "/engine/feed"} {
		if !strings.Contains(got, want) {
			t.Errorf("violations lack %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 6 {
		t.Errorf("%d violations, want 6:\n%s", n, got)
	}
}
