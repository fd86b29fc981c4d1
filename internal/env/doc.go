package env

import (
	"fmt"
	"slices"
	"strings"
)

// Markdown renders docs/environment.md: every variable of All and of
// IgnoredVars in one table. A test keeps the file equal to it.
func Markdown() string {
	var b strings.Builder
	b.WriteString(`# Environment variables

Every environment variable nomosrun, its scripts and its tests read, and every variable of the
the Rust framework nomosrun succeeds that nomosrun ignores. Generated from
` + "`internal/env`" + ` (` + "`go test ./internal/env -run TestEnvironmentDoc -update`" + ` rewrites it), so it
cannot drift from the code.

- **honoured**: read with the meaning given. "Rust framework" marks the variables the Rust framework read with
  the same meaning, so their CI scripts carry over.
- **ignored**: nomosrun does not read it; when it is set (not empty), nomosrun prints one line
  ` + "`nomosrun: warning: NAME is ignored: why`" + ` at start.

## Scenarios that opt in

` + "`NOMOS_DEMO_VALIDATORS`, `NOMOS_DEMO_EXECUTORS`, `NOMOS_DEMO_RUN_SECS`" + `, their legacy names
` + "`LOCAL_DEMO_*`" + ` and ` + "`COMPOSE_NODE_PAIRS`" + ` change a scenario only where it says so:

` + "```python" + `
topology(validators = 1, executors = 1, from_env = True)   # validators and executors
run("60s", from_env = True)                                  # the run window
` + "```" + `

A scenario without ` + "`from_env=True`" + ` keeps its own values, and each variable that is set gets one
warning naming the scenario. Applied values are recorded in the plan's params (under the
variable's name), so the report shows the shape that ran. The NOMOS_DEMO_* names win over the
LOCAL_DEMO_* names, which win over COMPOSE_NODE_PAIRS; a malformed value is a usage error (exit 2).
They override ` + "`--set`" + ` values given to the same arguments. ` + "`examples/demo.star`" + ` opts in; it is what
` + "`scripts/run-examples.sh`" + ` runs.

## Variables

| variable | status | default | meaning |
|---|---|---|---|
`)
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, v := range All {
		status := "honoured"
		if slices.Contains(FromSeeds, v.Name) {
			status = "honoured (Rust framework)"
		}
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Name, status, cell(def), cell(v.Doc))
	}
	for _, v := range IgnoredVars {
		status := "ignored (Rust framework)"
		why := v.Why
		if v.ScriptOnly {
			why += " (only `scripts/run-examples.sh` warns: the name is too common for nomosrun to warn about)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | — | %s |\n", v.Name, status, cell(why))
	}
	b.WriteString(`
## versions.env

The Rust framework's ` + "`versions.env`" + ` set ` + "`VERSION`" + ` (the circuits release), ` + "`NOMOS_NODE_REV`" + ` (the nomos-node
revision to build) and ` + "`NOMOS_BUNDLE_VERSION`" + ` (the binary bundle format). nomosrun's ` + "`versions.env`" + `
keeps ` + "`NOMOS_NODE_REV`" + ` as the revision of nomos-node whose HTTP API the reference node follows (it
builds nothing from it), and has no ` + "`VERSION`" + ` (its KZG test parameters are generated and pinned by
` + "`KZGRS_PARAMS_SHA256`" + `) nor ` + "`NOMOS_BUNDLE_VERSION`" + ` (there are no bundles). As environment variables,
all three are ignored, as the table says.
`)
	return b.String()
}
