package main

import (
	"strings"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
)

// The runners register themselves from init; run.go imports them.

// capsOf returns the capabilities the named runner registered, for
// validating plans without starting a runner.
func capsOf(runner string) (plan.Capabilities, error) {
	info, err := runners.Lookup(runner)
	if err == nil && info.CapsHere != nil {
		return info.CapsHere(), nil
	}
	return info.Caps, err
}

// runnerChoices is the registered runner names for help texts: "a, b or c".
func runnerChoices() string {
	names := runners.Names()
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
