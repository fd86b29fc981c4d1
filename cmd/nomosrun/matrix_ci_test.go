package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestCIWorkflowParses checks the GitHub Actions example is YAML whose run
// steps call scripts that exist.
func TestCIWorkflowParses(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string            `yaml:"run"`
				Env map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if strings.HasPrefix(s.Run, "examples/ci/matrix.sh ") {
				found = true
				script := strings.Fields(s.Run)
				if _, err := os.Stat(filepath.Join("../..", script[1])); err != nil {
					t.Errorf("step runs %s: %v", s.Run, err)
				}
				for _, axis := range strings.Fields(s.Env["MATRIX"]) {
					if err := (&axisFlag{}).Set(axis); err != nil {
						t.Errorf("MATRIX axis %q: %v", axis, err)
					}
				}
			}
		}
	}
	if !found {
		t.Error("no step runs examples/ci/matrix.sh")
	}
}

// TestE2ECIMatrixScript runs examples/ci/matrix.sh on a two-job matrix, as
// CI would, and checks the files it leaves for publishing.
func TestE2ECIMatrixScript(t *testing.T) {
	needBinary(t)
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	out := filepath.Join(t.TempDir(), "reports")
	summary := filepath.Join(t.TempDir(), "step-summary.md")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../../examples/ci/matrix.sh", "testdata/e2e/matrix.star", out)
	cmd.Env = append(os.Environ(), "NOMOSRUN="+e2eBin, "MATRIX=slot=400ms,500ms", "PARALLEL=2", "SHARD=1/1",
		"GITHUB_STEP_SUMMARY="+summary)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("matrix.sh: %v\n%s", err, b)
	}
	for _, f := range []string{"junit.xml", "index.html", "summary.json", "summary.txt",
		"jobs/host-validators=2-slot=400ms/report.html", "jobs/host-validators=2-slot=500ms/junit.xml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(summary)
	if !strings.Contains(string(md), "### nomosrun matrix: testdata/e2e/matrix.star (shard 1/1)") || !strings.Contains(string(md), "2 jobs: 2 passed") {
		t.Errorf("step summary:\n%s", md)
	}
}
