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

// rule forbids packages matching from to depend (directly or not) on
// packages matching any of deny.
type rule struct {
	from string
	deny []string
	why  string
}

var rules = []rule{
	{"engine/plan", []string{"go.starlark.net", "runners", "engine/run", "starlib"},
		"the plan is plain data shared by every phase"},
	{"starlib", []string{"runners", "engine/run", "simnode", "os/exec", "net/http"},
		"builtins only record into a plan: no I/O, no exec, no backend"},
	{"engine", []string{"runners/host", "runners/compose", "runners/k8s", "runners/fake", "starlib", "go.starlark.net"},
		"the engine knows runners only through their interfaces"},
	{"runners", []string{"starlib", "go.starlark.net"},
		"runners deploy plans; they do not interpret them"},
	{"nodeapi", []string{"simnode", "engine", "runners"},
		"the node API client is shared by the engine and tests and must stay small"},
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
			if !within(p.ImportPath, from) {
				continue
			}
			for _, d := range p.Deps {
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
