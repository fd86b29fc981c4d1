package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/nodekind/cometbft"
)

// needCometBFT skips (fails under CI) without the cometbft binary that
// tools/cometbft/build.sh builds.
func needCometBFT(t *testing.T) {
	t.Helper()
	needBinary(t)
	_, err := cometbft.Binary()
	testenv.Require(t, "the cometbft binary", err)
}

// cometbftFiles returns the CometBFT examples.
func cometbftFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/cometbft/*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CometBFT examples found: %v", err)
	}
	return files
}

// TestE2ECometBFT runs every CometBFT example on the host runner, and the
// must-fail scenario of a CometBFT network that lost half its validators:
// the same scripts, a node nomosrun did not write.
func TestE2ECometBFT(t *testing.T) {
	needCometBFT(t)
	for _, file := range cometbftFiles(t) {
		runExampleOn(t, "host", file, 5*time.Minute, nil)
	}
	for _, file := range mustFailFiles(t, "cometbft_*") {
		runMustFailOn(t, "host", file, 4*time.Minute)
	}
}

// TestE2ECometBFTCompose runs the same on the compose runner, from the
// cometbft image nomosrun builds (FROM scratch, the static cometbft).
func TestE2ECometBFTCompose(t *testing.T) {
	needCometBFT(t)
	needCompose(t)
	needImage(t, cometbft.Name)
	for _, file := range cometbftFiles(t) {
		runExampleOn(t, "compose", file, 5*time.Minute, func(t *testing.T, dir string) {
			if left := runObjects(t, composeRunID(t, dir)); len(left) > 0 {
				t.Errorf("left in the engine after the run: %v", left)
			}
		})
	}
	for _, file := range mustFailFiles(t, "cometbft_*") {
		runMustFailOn(t, "compose", file, 5*time.Minute)
	}
}

// isCometBFT reports whether a must-fail scenario runs CometBFT nodes (the
// CometBFT tests run those).
func isCometBFT(file string) bool { return strings.HasPrefix(filepath.Base(file), "cometbft_") }
