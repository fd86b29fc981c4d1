package runnertest_test

import (
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/compose"
	"github.com/nomosrun/nomosrun/runners/fake"
	"github.com/nomosrun/nomosrun/runners/host"
	"github.com/nomosrun/nomosrun/runners/k8s"
	"github.com/nomosrun/nomosrun/runners/runnertest"
)

// clusterTypes holds a nil cluster of every registered runner: the
// capabilities a runner registers must be those its cluster type implements.
var clusterTypes = map[string]runners.Cluster{
	host.Name:    (*host.Cluster)(nil),
	compose.Name: (*compose.Cluster)(nil),
	k8s.Name:     (*k8s.Cluster)(nil),
}

func TestRegisteredCapsAreImplemented(t *testing.T) {
	if len(runnertest.CapMismatches(plan.NewCapabilities(), (*host.Cluster)(nil))) == 0 {
		t.Fatal("CapMismatches does not see the controls of a nil cluster pointer")
	}
	all := runners.All()
	if len(all) != len(clusterTypes) {
		t.Errorf("registered runners %v, want %d: add a new runner's cluster type to clusterTypes", runners.Names(), len(clusterTypes))
	}
	for _, info := range all {
		c, ok := clusterTypes[info.Name]
		if !ok {
			t.Errorf("runner %s: no cluster type in clusterTypes", info.Name)
			continue
		}
		for _, m := range runnertest.CapMismatches(info.Caps, c) {
			t.Errorf("runner %s: %s", info.Name, m)
		}
		if info.Doc == "" {
			t.Errorf("runner %s: registered without Doc", info.Name)
		}
	}
}

// The fake runner is not registered; its default set must match its
// cluster type all the same, since engine tests validate plans against it.
func TestFakeCapsAreImplemented(t *testing.T) {
	for _, m := range runnertest.CapMismatches(fake.New(fake.Options{}).Capabilities(), (*fake.Cluster)(nil)) {
		t.Error(m)
	}
	for _, info := range runners.All() {
		if info.Name == fake.Name {
			t.Error("the fake runner is registered: it would become a --runner choice")
		}
	}
}
