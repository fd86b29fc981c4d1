package runners

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
)

type stubRunner struct{ name string }

func (s stubRunner) Name() string                    { return s.name }
func (s stubRunner) Capabilities() plan.Capabilities { return plan.NewCapabilities() }
func (s stubRunner) Deploy(context.Context, DeploySpec) (Cluster, error) {
	return nil, errors.New("not deployable")
}

func TestRegistry(t *testing.T) {
	Register("test-a", func() (Runner, error) { return stubRunner{"test-a"}, nil })
	Register("test-broken", func() (Runner, error) { return nil, errors.New("missing docker") })

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
}

func TestRegisterTwicePanics(t *testing.T) {
	Register("test-dup", func() (Runner, error) { return stubRunner{"test-dup"}, nil })
	defer func() {
		if recover() == nil {
			t.Fatal("second Register did not panic")
		}
	}()
	Register("test-dup", func() (Runner, error) { return stubRunner{"test-dup"}, nil })
}
