package plan

import (
	"slices"
	"sort"
)

// Capability is something a runner can do beyond deploy and teardown. Plan
// validation rejects a scenario that needs one its runner lacks.
type Capability string

// The capabilities a plan may need.
const (
	CapRestart   Capability = "restart"    // restart a node (chaos_restart)
	CapKill      Capability = "kill"       // crash a node and start it again
	CapPause     Capability = "pause"      // freeze and resume a node
	CapIsolate   Capability = "isolate"    // cut a node off from every peer
	CapPartition Capability = "partition"  // cut the network into groups
	CapLatency   Capability = "latency"    // delay and drop messages on links
	CapClockSkew Capability = "clock_skew" // shift a node's clock
	CapLogs      Capability = "logs"       // read node logs (expect_log)
	CapDA        Capability = "da"         // executors that disperse blobs
	// CapKernelNetwork: network faults applied in the kernel, outside the
	// node (via="kernel"); whether this machine allows it is checked when
	// the cluster is deployed.
	CapKernelNetwork Capability = "kernel_network"
)

// Capabilities is a set of capabilities.
type Capabilities map[Capability]bool

// NewCapabilities returns the set holding caps.
func NewCapabilities(caps ...Capability) Capabilities {
	s := make(Capabilities, len(caps))
	for _, c := range caps {
		s[c] = true
	}
	return s
}

// Has reports whether c is in the set.
func (s Capabilities) Has(c Capability) bool { return s[c] }

// Sorted returns the capabilities in name order.
func (s Capabilities) Sorted() []Capability {
	out := make([]Capability, 0, len(s))
	for c, ok := range s {
		if ok {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// networkCaps are the faults that may go through the kernel.
var networkCaps = []Capability{CapPartition, CapIsolate, CapLatency, CapKernelNetwork}

// MayUseKernelNetwork reports whether a run of p may apply a network fault
// in the kernel: a partition, isolate or latency fault not pinned to the
// node's hooks, or a hook whose uses= declares one. Runners that must
// prepare for kernel faults at deploy time (a helper beside each pod) ask.
func (p *Plan) MayUseKernelNetwork() bool {
	for _, f := range p.Faults {
		if c, ok := faultCaps[f.Kind]; ok && f.Via != ViaNode && slices.Contains(networkCaps, c) {
			return true
		}
	}
	for _, h := range p.Hooks {
		for _, c := range h.Uses {
			if slices.Contains(networkCaps, c) {
				return true
			}
		}
	}
	return false
}
