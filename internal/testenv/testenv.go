// Package testenv decides what an integration test does when the real
// infrastructure it needs (a Docker engine, a Kubernetes cluster, a
// Prometheus server) is not there: locally it skips with a message naming
// what is missing; under CI (CI=true) it fails, so a broken setup can never
// pass as skipped tests.
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run under the project's CI (CI=true), where
// every integration dependency is installed by the CI scripts.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require stops the test when what is unavailable: err says why. It skips
// locally and fails under CI.
func Require(tb testing.TB, what string, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if InCI() {
		tb.Fatalf("%s is required under CI=true but is not available: %v", what, err)
		return
	}
	tb.Skipf("skipping: %s is not available (%v); .ci/run installs it", what, err)
}
