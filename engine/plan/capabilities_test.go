package plan

import "testing"

func TestMayUseKernelNetwork(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Plan
		want bool
	}{
		{"nothing", Plan{}, false},
		{"a kill", Plan{Faults: []Fault{{Kind: FaultKill}}}, false},
		{"a partition", Plan{Faults: []Fault{{Kind: FaultPartition}}}, true},
		{"latency pinned to the node", Plan{Faults: []Fault{{Kind: FaultLatency, Via: ViaNode}}}, false},
		{"isolate in the kernel", Plan{Faults: []Fault{{Kind: FaultIsolate, Via: ViaKernel}}}, true},
		{"a hook that may partition", Plan{Hooks: []Hook{{Uses: []Capability{CapPartition}}}}, true},
		{"a hook that may restart", Plan{Hooks: []Hook{{Uses: []Capability{CapRestart}}}}, false},
	} {
		if got := c.p.MayUseKernelNetwork(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
