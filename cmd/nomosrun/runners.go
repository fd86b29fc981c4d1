package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// allCaps is every capability a plan may need.
var allCaps = plan.NewCapabilities(plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapIsolate,
	plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapLogs, plan.CapDA)

// runnerCaps is the one table of what each runner supports, for validating
// plans without starting a runner. Network faults go through the node's
// fault hooks on every runner.
var runnerCaps = map[string]plan.Capabilities{
	"host":    allCaps,
	"compose": allCaps,
	"k8s":     allCaps,
}

// capsOf returns the capabilities of the named runner.
func capsOf(runner string) (plan.Capabilities, error) {
	caps, ok := runnerCaps[runner]
	if !ok {
		names := make([]string, 0, len(runnerCaps))
		for n := range runnerCaps {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown runner %q; want one of %s", runner, strings.Join(names, ", "))
	}
	return caps, nil
}
