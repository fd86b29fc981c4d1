package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	module "github.com/nomosrun/nomosrun"
	"github.com/nomosrun/nomosrun/starlib"
)

var demoCmd = &command{
	name:  "demo",
	usage: "[--secs N] [--validators N] [--executors N] [--runner host] [run flags]",
	short: "run the Rust framework's mixed demo (examples/demo.star: transactions, DA with an executor, liveness) with this shape",
	flags: demoFlags,
}

// demoFlags is nomosrun run on the embedded examples/demo.star, whose
// shape and window the flags set; unset, NOMOS_DEMO_* and
// COMPOSE_NODE_PAIRS do, else the scenario's defaults.
func demoFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	f := scenarioFlagsOn(fs)
	f.source = module.DemoScenario
	secs := fs.Int("secs", 0, "run window in seconds (default: NOMOS_DEMO_RUN_SECS, else 60)")
	validators := fs.Int("validators", 0, "validators (default: NOMOS_DEMO_VALIDATORS, else 1)")
	executors := fs.Int("executors", 0, "executors (default: NOMOS_DEMO_EXECUTORS, else 1)")
	run := runWith(a, c, fs, f)
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 0 {
			return usageError(fmt.Errorf("demo: unexpected argument %q; usage: nomosrun demo %s", pos[0], c.usage))
		}
		given := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
		shape, err := demoShape(given, *secs, *validators, *executors)
		if err != nil {
			return usageError(err)
		}
		f.shape = shape
		return run(ctx, []string{"demo.star"})
	}
}

// demoShape is the shape the demo's flags that were given set.
func demoShape(given map[string]bool, secs, validators, executors int) (s starlib.Shape, err error) {
	s.From = map[string]string{}
	switch {
	case given["secs"] && secs < 1:
		return s, fmt.Errorf("demo: --secs must be positive, got %d", secs)
	case given["validators"] && validators < 1:
		return s, fmt.Errorf("demo: --validators must be at least 1, got %d", validators)
	case given["executors"] && executors < 0:
		return s, fmt.Errorf("demo: --executors must not be negative, got %d", executors)
	}
	if given["secs"] {
		d := time.Duration(secs) * time.Second
		s.Run, s.From["run"] = &d, "--secs"
	}
	if given["validators"] {
		s.Validators, s.From["validators"] = &validators, "--validators"
	}
	if given["executors"] {
		s.Executors, s.From["executors"] = &executors, "--executors"
	}
	return s, nil
}
