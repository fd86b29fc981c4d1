package host

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/procgroup"
	"github.com/nomosrun/nomosrun/runners"
)

func get(t *testing.T, url string, timeout time.Duration) (string, error) {
	t.Helper()
	cl := http.Client{Timeout: timeout}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeployLayoutEnvAndTeardown(t *testing.T) {
	t.Setenv("NOMOS_LOG_LEVEL", "debug")
	r := fakeRunner(t, "", Options{})
	c, dir := deployFake(t, r, 2)

	nodes := c.Nodes()
	if len(nodes) != 2 || nodes[0].Name() != "validator-0" || nodes[1].Role() != plan.RoleValidator {
		t.Fatalf("nodes = %v", nodes)
	}
	if nodes[0].API() == nodes[1].API() || nodes[0].API() == nodes[0].TestingAPI() {
		t.Fatalf("endpoints collide: %s %s %s", nodes[0].API(), nodes[1].API(), nodes[0].TestingAPI())
	}
	var pids []int
	for _, n := range nodes {
		for _, u := range []string{n.API(), n.TestingAPI()} {
			if body, err := get(t, u+"/cryptarchia/info", time.Second); err != nil || !strings.Contains(body, `"height"`) {
				t.Fatalf("%s: %q, %v", u, body, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "configs", n.Name()+".json")); err != nil {
			t.Fatalf("config of %s: %v", n.Name(), err)
		}
		log := readFile(t, filepath.Join(dir, "logs", n.Name()+".log"))
		data := filepath.Join(dir, "data", n.Name())
		if !strings.Contains(log, "cwd="+data+" ") || !strings.Contains(log, "log_dir="+filepath.Join(dir, "logs")+" ") ||
			!strings.Contains(log, "log_level=debug") {
			t.Fatalf("log of %s does not show cwd, NOMOS_LOG_DIR and NOMOS_LOG_LEVEL: %q", n.Name(), log)
		}
		pids = append(pids, c.PID(n.Name()))
	}

	// Concurrent teardowns all succeed and leave nothing behind.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Teardown(context.Background()) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("teardown: %v", err)
		}
	}
	for _, pid := range pids {
		if pid == 0 || procgroup.Alive(pid) {
			t.Fatalf("process group %d alive after teardown (pids %v)", pid, pids)
		}
	}
	if err := c.Teardown(context.Background()); err != nil {
		t.Fatalf("second teardown: %v", err)
	}
	if err := c.Restart(context.Background(), "validator-0"); err == nil {
		t.Fatal("Restart after Teardown succeeded")
	}
	if log := readFile(t, filepath.Join(dir, "logs", "validator-0.log")); !strings.Contains(log, "stopping on SIGTERM") {
		t.Fatalf("teardown was not graceful: %q", log)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("run directory removed: %v", err)
	}
	if len(c.Exits()) != 0 {
		t.Fatalf("teardown reported as unexpected exits: %v", c.Exits())
	}
}

func TestUnexpectedExitReported(t *testing.T) {
	r := fakeRunner(t, "crash", Options{})
	c, _ := deployFake(t, r, 1)
	select {
	case err := <-c.Exited():
		var e *NodeExit
		if !errors.As(err, &e) {
			t.Fatalf("exit report %T is not a *NodeExit", err)
		}
		if e.Node != "validator-0" || e.ExitCode != 3 || e.Signal != "" {
			t.Fatalf("exit = %+v", e)
		}
		if len(e.LogTail) == 0 || e.LogTail[len(e.LogTail)-1] != "fatal: boom" {
			t.Fatalf("log tail = %q, want it to end with the fatal line", e.LogTail)
		}
		if !strings.Contains(err.Error(), "validator-0") || !strings.Contains(err.Error(), "exit status 3") {
			t.Fatalf("Error() = %q", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit reported for a crashed node")
	}
	if got := c.Exits(); len(got) != 1 {
		t.Fatalf("Exits() = %v, want one", got)
	}
}

func TestExternalKillReportedButControlsAreNot(t *testing.T) {
	r := fakeRunner(t, "", Options{StopTimeout: 2 * time.Second})
	c, _ := deployFake(t, r, 2)
	ctx := context.Background()
	for _, step := range []func() error{
		func() error { return c.Kill(ctx, "validator-0") },
		func() error { return c.Start(ctx, "validator-0") },
		func() error { return c.Restart(ctx, "validator-0") },
		func() error { return c.Stop(ctx, "validator-0") },
		func() error { return c.Stop(ctx, "validator-0") }, // already stopped: no-op
		func() error { return c.Start(ctx, "validator-0") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Start(ctx, "validator-0"); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("Start of a running node: %v", err)
	}
	if err := c.Kill(ctx, "nope"); err == nil || !strings.Contains(err.Error(), `unknown node "nope"`) {
		t.Fatalf("Kill(nope): %v", err)
	}
	pid := c.PID("validator-1")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.Exited():
		e, _ := err.(*NodeExit)
		if e == nil || e.Node != "validator-1" || e.Signal != "SIGKILL" || e.ExitCode != -1 {
			t.Fatalf("exit = %+v, want validator-1 killed", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("external kill not reported")
	}
	if got := c.Exits(); len(got) != 1 {
		t.Fatalf("Exits() = %v, want only the external kill", got)
	}
}

func TestBindFailureRetriedWithNewPorts(t *testing.T) {
	r := fakeRunner(t, "bindfail-once", Options{})
	c, dir := deployFake(t, r, 1)
	if _, err := get(t, c.Nodes()[0].API()+"/cryptarchia/info", time.Second); err != nil {
		t.Fatalf("node not serving after retry: %v", err)
	}
	log := readFile(t, filepath.Join(dir, "logs", "validator-0.log"))
	if strings.Count(log, "address already in use") != 1 || strings.Count(log, "starting validator-0") != 2 {
		t.Fatalf("want one failed and one good start, log: %q", log)
	}
}

func TestStartFailureIsReportedAndCleanedUp(t *testing.T) {
	r := fakeRunner(t, "exit-at-start", Options{})
	_, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(2, 0, time.Second), RunDir: t.TempDir()})
	if err == nil {
		t.Fatal("deploy of nodes that exit at start succeeded")
	}
	for _, want := range []string{"did not start", "exit status 4", "fatal: bad genesis"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q lacks %q", err, want)
		}
	}

	r = fakeRunner(t, "never-listen", Options{StartTimeout: 500 * time.Millisecond})
	dir := t.TempDir()
	_, err = r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(1, 0, time.Second), RunDir: dir})
	if err == nil || !strings.Contains(err.Error(), "not listening after 500ms") {
		t.Fatalf("deploy of a node that never listens: %v", err)
	}
}

func TestBadSpecErrors(t *testing.T) {
	r := fakeRunner(t, "", Options{})
	ctx := context.Background()
	cases := map[string]runners.DeploySpec{
		"no plan":          {RunDir: t.TempDir()},
		"no run directory": {Plan: testPlan(1, 0, time.Second)},
		"has no nodes":     {Plan: &plan.Plan{}, RunDir: t.TempDir()},
	}
	for want, spec := range cases {
		if _, err := r.Deploy(ctx, spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Deploy(%s) = %v", want, err)
		}
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	r := fakeRunner(t, "ignore-term", Options{StopTimeout: 300 * time.Millisecond})
	c, _ := deployFake(t, r, 1)
	pid := c.PID("validator-0")
	start := time.Now()
	if err := c.Stop(context.Background(), "validator-0"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > 5*time.Second {
		t.Fatalf("stop took %v, want about the 300ms grace", el)
	}
	if procgroup.Alive(pid) {
		t.Fatal("node survived Stop")
	}
}

func TestTeardownKillsWholeProcessGroup(t *testing.T) {
	r := fakeRunner(t, "child", Options{})
	c, dir := deployFake(t, r, 1)
	b := readFile(t, filepath.Join(dir, "data", "validator-0", "child.pid"))
	child, err := strconv.Atoi(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(child, 0); err != nil {
		t.Fatalf("grandchild not running before teardown: %v", err)
	}
	if err := c.Teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(child, 0); err == nil {
		t.Fatalf("grandchild %d survived teardown", child)
	}
}

func TestPauseResume(t *testing.T) {
	r := fakeRunner(t, "", Options{})
	c, _ := deployFake(t, r, 1)
	ctx := context.Background()
	url := c.Nodes()[0].API() + "/cryptarchia/info"
	if err := c.Pause(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, url, 300*time.Millisecond); err == nil {
		t.Fatal("a paused node answered")
	}
	if err := c.Resume(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, url, 2*time.Second); err != nil {
		t.Fatalf("resumed node does not answer: %v", err)
	}
	// Stopping a paused node still works (SIGCONT follows SIGTERM).
	if err := c.Pause(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Stop(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("stopping a paused node took %v", el)
	}
	if err := c.Pause(ctx, "validator-0"); err == nil {
		t.Fatal("Pause of a stopped node succeeded")
	}
}

func TestCollectLogs(t *testing.T) {
	r := fakeRunner(t, "", Options{})
	c, dir := deployFake(t, r, 2)
	out := t.TempDir()
	if err := c.CollectLogs(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes() {
		if log := readFile(t, filepath.Join(out, n.Name()+".log")); !strings.Contains(log, "starting "+n.Name()) {
			t.Fatalf("collected log of %s: %q", n.Name(), log)
		}
	}
	// Collecting into the run's own log directory leaves the logs intact.
	if err := c.CollectLogs(context.Background(), filepath.Join(dir, "logs")); err != nil {
		t.Fatal(err)
	}
	if log := readFile(t, filepath.Join(dir, "logs", "validator-0.log")); !strings.Contains(log, "starting validator-0") {
		t.Fatalf("log truncated: %q", log)
	}
}

func TestCommandPrecedence(t *testing.T) {
	ctx := context.Background()
	p := testPlan(1, 1, time.Second)
	command := func(r *Runner, role plan.Role) []string {
		t.Helper()
		got, err := r.command(ctx, p, role)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	r, err := New(Options{NodeCommand: []string{"/opt/node"}, WriteConfigs: writeFakeConfigs})
	if err != nil {
		t.Fatal(err)
	}
	if got := command(r, plan.RoleExecutor); len(got) != 1 || got[0] != "/opt/node" {
		t.Fatalf("executor command = %v, want the node command", got)
	}
	// The reference kind's program: NOMOS_NODE_BIN and NOMOS_EXECUTOR_BIN.
	t.Setenv(env.NodeBin.Name, "/env/node")
	t.Setenv(env.ExecutorBin.Name, "/env/executor")
	r, _ = New(Options{})
	if got := command(r, plan.RoleValidator); got[0] != "/env/node" {
		t.Fatalf("validator command = %v, want NOMOS_NODE_BIN", got)
	}
	if got := command(r, plan.RoleExecutor); got[0] != "/env/executor" {
		t.Fatalf("executor command = %v, want NOMOS_EXECUTOR_BIN", got)
	}
	p.Topology.NodeBinary = "/plan/node"
	if got := command(r, plan.RoleExecutor); got[0] != "/plan/node" {
		t.Fatalf("command = %v, want the plan's node_binary", got)
	}
	p.Topology.NodeBinary = ""
	t.Setenv(env.NodeBin.Name, "")
	t.Setenv(env.ExecutorBin.Name, "")
	exe, _ := os.Executable()
	if got := command(r, plan.RoleValidator); len(got) != 2 || got[0] != exe || got[1] != "node" {
		t.Fatalf("default command = %v, want [%s node]", got, exe)
	}
	p.Topology.Node = "no-such-kind"
	if _, err := r.command(ctx, p, plan.RoleValidator); err == nil || !strings.Contains(err.Error(), `unknown node kind "no-such-kind"`) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestNodeEnv(t *testing.T) {
	t.Setenv("NOMOS_LOG_FILTER", "consensus=debug")
	t.Setenv("POL_PROOF_DEV_MODE", "1")
	t.Setenv("UNRELATED_SECRET", "x")
	env := strings.Join(nodeEnv("/run/logs", []string{"EXTRA=1"}), "\n")
	for _, want := range []string{"NOMOS_LOG_FILTER=consensus=debug", "POL_PROOF_DEV_MODE=1", "NOMOS_LOG_DIR=/run/logs", "EXTRA=1"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, "UNRELATED_SECRET") || strings.Count(env, "POL_PROOF_DEV_MODE") != 1 {
		t.Errorf("env:\n%s", env)
	}
	os.Unsetenv("POL_PROOF_DEV_MODE")
	if env := strings.Join(nodeEnv("/l", nil), "\n"); !strings.Contains(env, "POL_PROOF_DEV_MODE=true") {
		t.Errorf("POL_PROOF_DEV_MODE not defaulted:\n%s", env)
	}
}

func TestRegistered(t *testing.T) {
	r, err := runners.New(Name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := runners.Lookup(Name)
	if err != nil || r.Name() != "host" || !info.Caps.Has(plan.CapPause) {
		t.Fatalf("registered runner = %s %v, %v", r.Name(), info.Caps, err)
	}
}

// A restart racing with Teardown must not leave a node started after it.
func TestTeardownWinsOverConcurrentRestarts(t *testing.T) {
	r := fakeRunner(t, "", Options{})
	c, _ := deployFake(t, r, 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, n := range c.Nodes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if c.Restart(ctx, n.Name()) != nil {
					return
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if left, _ := c.Leftovers(ctx); len(left) > 0 {
		t.Fatalf("left after teardown: %v", left)
	}
	for _, n := range c.Nodes() {
		if pid := c.PID(n.Name()); pid != 0 {
			t.Fatalf("%s running (pid %d) after teardown", n.Name(), pid)
		}
	}
}

// NOMOS_LOG_DIR given by the caller is where the nodes write their log
// files (made absolute, since nodes run elsewhere); unset, the run's logs/.
func TestNodeEnvLogDir(t *testing.T) {
	t.Setenv("NOMOS_LOG_DIR", "")
	if env := strings.Join(nodeEnv("/run/logs", nil), "\n"); !strings.Contains(env, "NOMOS_LOG_DIR=/run/logs") {
		t.Errorf("unset: env lacks the run's log dir:\n%s", env)
	}
	t.Setenv("NOMOS_LOG_DIR", "my-logs")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	env := nodeEnv("/run/logs", nil)
	want := "NOMOS_LOG_DIR=" + filepath.Join(wd, "my-logs")
	if !slices.Contains(env, want) || slices.Contains(env, "NOMOS_LOG_DIR=/run/logs") {
		t.Errorf("env = %v, want %s only", env, want)
	}
}
