package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/runners/attach"
)

// writeEndpointsFile writes an endpoints.json for pid into a new directory.
func writeEndpointsFile(t *testing.T, ep attach.Endpoints) string {
	t.Helper()
	dir := t.TempDir()
	if err := attach.Write(dir, &ep); err != nil {
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
		{"garbage", []string{"down", garbage}, "is not an endpoints file"},
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
	dir := writeEndpointsFile(t, attach.Endpoints{Scenario: "x.star", PID: done.Process.Pid,
		Nodes: []attach.Node{{Name: "validator-0", API: "http://127.0.0.1:1"}}})
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
	dir := writeEndpointsFile(t, attach.Endpoints{Scenario: "x.star", PID: sleep.Process.Pid, Executable: "/nonexistent/nomosrun"})
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
	dir := writeEndpointsFile(t, attach.Endpoints{Scenario: "x.star", PID: os.Getpid(), Executable: exe})
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

// upProcess is a `nomosrun up` started from the built binary.
type upProcess struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	exited      chan error
	ep          *attach.Endpoints
}

// startUp builds nomosrun, brings a real two-validator cluster up in
// runDir on the host runner and waits for its endpoints.json.
func startUp(t *testing.T, runDir string) (string, *upProcess) {
	return startUpOn(t, runDir, "host")
}

// startUpOn is startUp on the given runner.
func startUpOn(t *testing.T, runDir, runner string) (string, *upProcess) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds nomosrun and runs a real cluster; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "nomosrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	scenario := write(t, "two.star", "topology(validators=2, slot=\"1s\")\nexpect_liveness()\nrun(\"10s\")\n")
	p := &upProcess{cmd: exec.Command(bin, "up", scenario, "--run-dir", runDir, "--runner", runner), exited: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	p.ep = waitEndpoints(t, runDir, p.exited, &p.errOut)
	if p.ep.PID != p.cmd.Process.Pid || p.ep.Runner != runner || len(p.ep.Nodes) != 2 || p.ep.StartedAt.IsZero() ||
		p.ep.Scenario != scenario {
		t.Fatalf("endpoints.json: %+v", p.ep)
	}
	return bin, p
}

// waitExit0 waits for up to exit and checks it exited 0 after a teardown
// that left no node answering and no endpoints.json.
func (p *upProcess) waitExit0(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("up exited with %v\nstderr:\n%s", err, p.errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("up still running")
	}
	for _, n := range p.ep.Nodes {
		line := n.Name + "  validator  " + n.API
		if !strings.Contains(p.out.String(), line) {
			t.Errorf("up output lacks %q:\n%s", line, p.out.String())
		}
		if err := getJSON(n.API+"/cryptarchia/info", nil); err == nil {
			t.Errorf("%s still answers at %s after teardown", n.Name, n.API)
		}
	}
	if _, err := os.Stat(filepath.Join(p.ep.RunDir, endpointsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("endpoints.json left behind: %v", err)
	}
	if !strings.Contains(p.errOut.String(), "nomosrun: cluster down") {
		t.Errorf("up stderr:\n%s", p.errOut.String())
	}
}

// TestUpDown brings a real cluster up, queries every node, stops it with
// `nomosrun down` from another process and checks that nothing answers any
// more.
func TestUpDown(t *testing.T) {
	bin, up := startUp(t, filepath.Join(t.TempDir(), "run"))
	for _, n := range up.ep.Nodes {
		var info struct {
			Height *uint64 `json:"height"`
			Mode   string  `json:"mode"`
		}
		if err := getJSON(n.API+"/cryptarchia/info", &info); err != nil || info.Height == nil || info.Mode == "" {
			t.Errorf("%s: GET /cryptarchia/info: %v %+v", n.Name, err, info)
		}
		api, _ := url.Parse(n.API)
		tapi, _ := url.Parse(n.TestingAPI)
		if n.Role != "validator" || api == nil || tapi == nil || tapi.Scheme != "http" || tapi.Hostname() != api.Hostname() {
			t.Errorf("node entry %+v", n)
		}
	}
	out, err := exec.Command(bin, "down", up.ep.RunDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stopped "+up.ep.Scenario+": 2 nodes down") {
		t.Fatalf("down: %v\n%s", err, out)
	}
	up.waitExit0(t)
}

// TestUpInterrupt stops up with SIGINT, as Ctrl-C does.
func TestUpInterrupt(t *testing.T) {
	_, up := startUp(t, filepath.Join(t.TempDir(), "run"))
	if err := up.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	up.waitExit0(t)
}

// waitEndpoints waits for up to write endpoints.json.
func waitEndpoints(t *testing.T, dir string, exited <-chan error, stderr *bytes.Buffer) *attach.Endpoints {
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

// TestAttachDrivesARunningCluster runs a scenario with --runner attach
// against a cluster nomosrun up keeps running: the run passes, with an
// isolate through the nodes' testing API, and leaves the cluster as it was:
// the up process still holds it and every node still answers; down then
// stops it.
func TestAttachDrivesARunningCluster(t *testing.T) {
	bin, up := startUp(t, filepath.Join(t.TempDir(), "run"))
	scenario := write(t, "attached.star", `topology(validators=2, slot="1s")
isolate("validator-1", at="2s", duration="3s")
expect_consensus_agreement()
run("10s")
`)
	out, err := runAttached(bin, scenario, up.ep.RunDir)
	if err != nil || !strings.Contains(out, "PASSED") || !strings.Contains(out, "f1   isolate") {
		t.Fatalf("attached run: %v\n%s", err, out)
	}
	if !upAlive(up.ep) {
		t.Fatal("nomosrun up is gone after the attached run")
	}
	for _, n := range up.ep.Nodes {
		if err := getJSON(n.API+"/cryptarchia/info", nil); err != nil {
			t.Errorf("%s no longer answers after the attached run: %v", n.Name, err)
		}
	}
	// Node control needs the machinery that started the nodes: refused
	// before anything runs.
	kill := write(t, "kill.star", `topology(validators=2, slot="1s")
kill("validator-1", at="2s", restart_after="2s")
expect_consensus_agreement()
run("10s")
`)
	out, err = runAttached(bin, kill, up.ep.RunDir)
	if err == nil || !strings.Contains(out, "attach runner") || !strings.Contains(out, "kill") {
		t.Errorf("a kill on the attach runner: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "down", up.ep.RunDir).CombinedOutput(); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	up.waitExit0(t)
}

// TestAttachControlsTheContainersOfAComposeCluster: nomosrun up on the
// compose runner names each node's container in endpoints.json, so an
// attached run may kill a node and bring it back, through the Docker
// engine; the cluster is still up, with the same containers, afterwards.
func TestAttachControlsTheContainersOfAComposeCluster(t *testing.T) {
	needCompose(t)
	bin, up := startUpOn(t, filepath.Join(t.TempDir(), "run"), "compose")
	for _, n := range up.ep.Nodes {
		if n.Container == "" {
			t.Fatalf("endpoints.json names no container for %s: %+v", n.Name, up.ep)
		}
	}
	started := func(id string) string {
		out, err := exec.Command("docker", "inspect", "-f", "{{.State.StartedAt}}", id).Output()
		if err != nil {
			t.Fatalf("docker inspect %s: %v", id, err)
		}
		return strings.TrimSpace(string(out))
	}
	before := started(up.ep.Nodes[1].Container)
	kill := write(t, "kill.star", `topology(validators=2, slot="1s")
kill("validator-1", at="2s", restart_after="3s")
expect_consensus_agreement()
run("10s")
`)
	out, err := runAttached(bin, kill, up.ep.RunDir)
	if err != nil || !strings.Contains(out, "PASSED") || !strings.Contains(out, "f1   kill") {
		t.Fatalf("attached run with a kill: %v\n%s", err, out)
	}
	if after := started(up.ep.Nodes[1].Container); after == before {
		t.Errorf("validator-1's container was not restarted (started at %s before and after)", before)
	}
	if !upAlive(up.ep) {
		t.Fatal("nomosrun up is gone after the attached run")
	}
	for _, n := range up.ep.Nodes {
		if err := getJSON(n.API+"/cryptarchia/info", nil); err != nil {
			t.Errorf("%s no longer answers after the attached run: %v", n.Name, err)
		}
	}
	if out, err := exec.Command(bin, "down", up.ep.RunDir).CombinedOutput(); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	up.waitExit0(t)
}

// runAttached runs scenario with the attach runner against the cluster up
// from runDir and returns its combined output.
func runAttached(bin, scenario, runDir string) (string, error) {
	cmd := exec.Command(bin, "run", scenario, "--runner", "attach")
	cmd.Env = append(os.Environ(), "NOMOS_ATTACH_ENDPOINTS="+runDir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
