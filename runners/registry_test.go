package runners

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
)

type stubRunner struct{ name string }

func (s stubRunner) Name() string { return s.name }
func (s stubRunner) Deploy(context.Context, DeploySpec) (Cluster, error) {
	return nil, errors.New("not deployable")
}

func TestRegistry(t *testing.T) {
	caps := plan.NewCapabilities(plan.CapRestart)
	Register(Info{Name: "test-a", Caps: caps, Checks: []string{"free ports"},
		New: func() (Runner, error) { return stubRunner{"test-a"}, nil }})
	Register(Info{Name: "test-broken", New: func() (Runner, error) { return nil, errors.New("missing docker") }})

	r, err := New("test-a")
	if err != nil || r.Name() != "test-a" {
		t.Fatalf("New(test-a) = %v, %v", r, err)
	}
	if _, err := New("test-broken"); err == nil || !strings.Contains(err.Error(), "runner test-broken: missing docker") {
		t.Fatalf("New(test-broken) error = %v", err)
	}
	_, err = New("nope")
	if err == nil || !strings.Contains(err.Error(), `unknown runner "nope"`) || !strings.Contains(err.Error(), "test-a, test-broken") {
		t.Fatalf("New(nope) error = %v, want the known names", err)
	}
	names := Names()
	if len(names) < 2 || names[0] > names[len(names)-1] {
		t.Fatalf("Names() = %v, want sorted", names)
	}
	info, err := Lookup("test-a")
	if err != nil || !info.Caps.Has(plan.CapRestart) || len(info.Checks) != 1 {
		t.Fatalf("Lookup(test-a) = %+v, %v", info, err)
	}
	if info, _ := Lookup("test-broken"); info.Caps == nil {
		t.Fatal("a registration without Caps has a nil set")
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), `unknown runner "nope"`) {
		t.Fatalf("Lookup(nope) error = %v", err)
	}
	if all := All(); len(all) != len(names) || all[0].Name != names[0] {
		t.Fatalf("All() = %v, want the registrations of %v", all, names)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	Register(Info{Name: "test-dup", New: func() (Runner, error) { return stubRunner{"test-dup"}, nil }})
	defer func() {
		if recover() == nil {
			t.Fatal("second Register did not panic")
		}
	}()
	Register(Info{Name: "test-dup", New: func() (Runner, error) { return stubRunner{"test-dup"}, nil }})
}
