// Package nomosrun holds what belongs to the module as a whole: the pinned
// versions (versions.env), embedded in every binary as the default.
package nomosrun

import _ "embed"

// VersionsEnv is the content of versions.env at build time. Parse it with
// internal/versions.
//
//go:embed versions.env
var VersionsEnv []byte
