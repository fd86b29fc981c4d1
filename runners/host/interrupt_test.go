package host

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/procgroup"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// envInterruptChild makes the test binary act as a nomosrun that deploys
// stand-in nodes, prints their pids and tears down on SIGINT.
const envInterruptChild = "HOST_TEST_INTERRUPT_CHILD"

// envInterruptNodeBin makes the child run real reference nodes.
const envInterruptNodeBin = "HOST_TEST_INTERRUPT_NODE_BIN"

// envInterruptNetns makes the child deploy in netns mode and isolate
// validator-0 in the kernel before it prints the pids.
const envInterruptNetns = "HOST_TEST_INTERRUPT_NETNS"

func interruptChildMain() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	exe, _ := os.Executable()
	opts := Options{
		NodeCommand: []string{exe, "node"}, WriteConfigs: writeFakeConfigs,
		Env: []string{envFakeNode + "=1"},
	}
	if bin := os.Getenv(envInterruptNodeBin); bin != "" {
		opts = Options{NodeCommand: []string{bin}}
	}
	netns := os.Getenv(envInterruptNetns) != ""
	if netns {
		opts.Network = NetworkNetns
	}
	r, err := New(opts)
	if err == nil {
		var c runners.Cluster
		c, err = r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(3, 0, time.Second), RunDir: os.Getenv(envInterruptChild), ChainStart: time.Now()})
		if err == nil && netns {
			_, err = c.(*Cluster).CutLinks(ctx, "iso", []string{"validator-0"}, []string{"validator-1", "validator-2"})
		}
		if err == nil {
			var pids []string
			for _, n := range c.Nodes() {
				pids = append(pids, strconv.Itoa(c.(*Cluster).PID(n.Name())))
			}
			fmt.Println("pids", strings.Join(pids, " "))
			<-ctx.Done()
			err = c.Teardown(context.Background())
			fmt.Println("torn down", err)
		}
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// startInterruptChild runs the child and returns it with its node pids.
// Extra entries go into the child's environment.
func startInterruptChild(t *testing.T, extraEnv ...string) (*exec.Cmd, []int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	// Real reference nodes when built (without -short), stand-ins otherwise.
	cmd.Env = append(os.Environ(), envInterruptChild+"="+t.TempDir(), envInterruptNodeBin+"="+simnodeBin)
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "pids ") || strings.HasPrefix(sc.Text(), "error:") {
				lines <- sc.Text()
				break
			}
		}
		// Keep draining so the child never blocks on a full pipe.
		for sc.Scan() {
		}
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("child did not deploy")
	}
	var pids []int
	for _, f := range strings.Fields(strings.TrimPrefix(line, "pids ")) {
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 {
			t.Fatalf("child said %q", line)
		}
		pids = append(pids, p)
	}
	for _, p := range pids {
		if !procgroup.Alive(p) {
			t.Fatalf("node %d not running before the interrupt", p)
		}
		if simnodeBin != "" && runtime.GOOS == "linux" {
			if b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline"); !strings.HasPrefix(string(b), simnodeBin) {
				t.Fatalf("node %d runs %q, want the reference node", p, b)
			}
		}
	}
	return cmd, pids
}

func waitAllGone(t *testing.T, pids []int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, p := range pids {
		for procgroup.Alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("node process group %d still alive (all: %v)", p, pids)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestInterruptedRunLeavesNoNodes(t *testing.T) {
	cmd, pids := startInterruptChild(t)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child exit after SIGINT: %v", err)
	}
	waitAllGone(t, pids, 5*time.Second)
}

func TestKilledRunLeavesNoNodes(t *testing.T) {
	if !procgroup.ParentDeathSignal {
		t.Skip("no parent-death signal on this OS")
	}
	cmd, pids := startInterruptChild(t)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitAllGone(t, pids, 5*time.Second)
	if kernelnet.Available() == nil { // the child ran in netns mode: remove what it left
		if _, err := kernelnet.Clean(context.Background(), kernelnet.DefaultPrefix); err != nil {
			t.Error(err)
		}
	}
}

// A nomosrun killed in netns mode in the middle of a kernel cut takes its
// nodes with it; Clean then removes its namespaces, and a SIGINT'd one
// removes them itself.
func TestKilledNetnsRunLeavesNothingAfterClean(t *testing.T) {
	needNetns(t)
	if !procgroup.ParentDeathSignal {
		t.Skip("no parent-death signal on this OS")
	}
	before := runNamespaces()
	cmd, pids := startInterruptChild(t, envInterruptNetns+"=1")
	if got := newNamespaces(before); len(got) < 4 {
		t.Fatalf("the child's namespaces are missing: new %v of %v", got, runNamespaces())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitAllGone(t, pids, 5*time.Second)
	if _, err := kernelnet.Clean(context.Background(), kernelnet.DefaultPrefix); err != nil {
		t.Fatal(err)
	}
	noNewNamespaces(t, before)

	cmd, pids = startInterruptChild(t, envInterruptNetns+"=1")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child exit after SIGINT: %v", err)
	}
	waitAllGone(t, pids, 5*time.Second)
	noNewNamespaces(t, before)
}
