package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeEndpointsFile writes an endpoints.json for pid into a new directory.
func writeEndpointsFile(t *testing.T, ep endpoints) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeEndpoints(dir, &ep); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDownErrors(t *testing.T) {
	empty := t.TempDir()
	garbage := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbage, endpointsFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no endpoints.json", []string{"down", empty}, "no endpoints.json in " + empty},
		{"garbage", []string{"down", garbage}, "is not an endpoints file written by nomosrun up"},
		{"missing dir", []string{"down", filepath.Join(empty, "nope")}, "no such file or directory"},
		{"no args", []string{"down"}, "want exactly one run directory"},
	} {
		code, _, errOut := nomosrun(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr:\n%s", tc.name, code, errOut)
		}
	}
}

func TestDownDeadProcess(t *testing.T) {
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	dir := writeEndpointsFile(t, endpoints{Scenario: "x.star", PID: done.Process.Pid,
		Nodes: []endpointsNode{{Name: "validator-0", API: "http://127.0.0.1:1"}}})
	code, _, errOut := nomosrun(t, "down", dir)
	if code != ExitOK || !strings.Contains(errOut, "is no longer running; the cluster is already down") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, endpointsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale endpoints.json not removed: %v", err)
	}
}

// A live pid running another program (a reused pid) is never signalled.
func TestDownLeavesReusedPidAlone(t *testing.T) {
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	dir := writeEndpointsFile(t, endpoints{Scenario: "x.star", PID: sleep.Process.Pid, Executable: "/nonexistent/nomosrun"})
	code, _, errOut := nomosrun(t, "down", dir)
	if code != ExitOK || !strings.Contains(errOut, "no longer running") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	time.Sleep(50 * time.Millisecond)
	if err := sleep.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the unrelated process was stopped: %v", err)
	}
}

func TestUpRefusesBusyRunDir(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := writeEndpointsFile(t, endpoints{Scenario: "x.star", PID: os.Getpid(), Executable: exe})
	scenario := write(t, "two.star", "topology(validators=2)\nrun(\"10s\")\n")
	code, _, errOut := nomosrun(t, "up", scenario, "--run-dir", dir)
	if code != ExitUsage || !strings.Contains(errOut, "a cluster is already up from "+dir) {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	code, _, errOut = nomosrun(t, "up")
	if code != ExitUsage || !strings.Contains(errOut, "want exactly one scenario file") {
		t.Errorf("up without a file: exit %d, stderr:\n%s", code, errOut)
	}
}

// TestUpDown brings a real two-validator cluster up with the built binary,
// queries every node, stops it with `nomosrun down` from another process
// and checks that nothing answers any more.
func TestUpDown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nomosrun and runs a real cluster; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "nomosrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	scenario := write(t, "two.star", "topology(validators=2, slot=\"1s\")\nexpect_liveness()\nrun(\"10s\")\n")
	runDir := filepath.Join(t.TempDir(), "run")

	var upOut, upErr bytes.Buffer
	up := exec.Command(bin, "up", scenario, "--run-dir", runDir)
	up.Stdout, up.Stderr = &upOut, &upErr
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- up.Wait() }()
	defer func() {
		if up.ProcessState == nil {
			up.Process.Kill()
			<-exited
		}
	}()

	ep := waitEndpoints(t, runDir, exited, &upErr)
	if ep.PID != up.Process.Pid || ep.Runner != "host" || len(ep.Nodes) != 2 || ep.StartedAt.IsZero() {
		t.Fatalf("endpoints.json: %+v", ep)
	}
	for _, n := range ep.Nodes {
		var info struct {
			Height *uint64 `json:"height"`
			Mode   string  `json:"mode"`
		}
		if err := getJSON(n.API+"/cryptarchia/info", &info); err != nil || info.Height == nil || info.Mode == "" {
			t.Errorf("%s: GET /cryptarchia/info: %v %+v", n.Name, err, info)
		}
		if n.Role != "validator" || !strings.HasPrefix(n.TestingAPI, "http://127.0.0.1:") {
			t.Errorf("node entry %+v", n)
		}
	}

	down := exec.Command(bin, "down", runDir)
	out, err := down.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stopped "+scenario+": 2 nodes down") {
		t.Fatalf("down: %v\n%s", err, out)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("up exited with %v\nstderr:\n%s", err, upErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("up still running after down returned")
	}
	for _, n := range ep.Nodes {
		line := n.Name + "  validator  " + n.API
		if !strings.Contains(upOut.String(), line) {
			t.Errorf("up output lacks %q:\n%s", line, upOut.String())
		}
		if err := getJSON(n.API+"/cryptarchia/info", nil); err == nil {
			t.Errorf("%s still answers at %s after down", n.Name, n.API)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, endpointsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("endpoints.json left behind: %v", err)
	}
	if !strings.Contains(upErr.String(), "nomosrun: cluster down") {
		t.Errorf("up stderr:\n%s", upErr.String())
	}
}

// waitEndpoints waits for up to write endpoints.json.
func waitEndpoints(t *testing.T, dir string, exited <-chan error, stderr *bytes.Buffer) *endpoints {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if ep, err := readEndpoints(dir); err == nil {
			return ep
		}
		select {
		case err := <-exited:
			t.Fatalf("up exited early: %v\n%s", err, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("no endpoints.json after 90s\n%s", stderr.String())
	return nil
}

func getJSON(url string, out any) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
