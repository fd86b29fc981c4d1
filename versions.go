// Package nomosrun holds what belongs to the module as a whole: the pinned
// versions (versions.env), embedded in every binary as the default, and the
// demo scenario nomosrun demo runs.
package nomosrun

import _ "embed"

// VersionsEnv is the content of versions.env at build time. Parse it with
// internal/versions.
//
//go:embed versions.env
var VersionsEnv []byte

// DemoScenario is examples/demo.star, the Rust framework's mixed demo, which
// nomosrun demo runs.
//
//go:embed examples/demo.star
var DemoScenario []byte
