package runnertest_test

import (
	"testing"

	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/compose"
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
