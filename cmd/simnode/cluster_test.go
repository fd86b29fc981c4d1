package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// bin is the simnode binary built once for the multi-process tests.
var bin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "simnode-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "simnode")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build simnode:", err)
		return 1
	}
	return m.Run()
}

var (
	portsMu sync.Mutex
	given   = map[int]bool{}
)

// freePort returns a loopback TCP port that was free a moment ago. It picks
// below the kernel's ephemeral range (32768+), so the nodes' own outbound
// connections cannot take it before the node listens, and never hands out a
// port twice.
func freePort(t testing.TB) int {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 10000 {
		p := 20000 + rand.IntN(12000)
		if given[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		given[p] = true
		return p
	}
	t.Fatal("no free port")
	return 0
}

// testCluster is a set of simnode processes on loopback.
type testCluster struct {
	t       testing.TB
	spec    config.ClusterSpec
	paths   []string
	dir     string
	cmds    []*exec.Cmd
	clients []*nodeapi.Client
}

type clusterOpts struct {
	validators, executors int
	network               string
	slot                  time.Duration
	k                     int
	f                     float64
	wallets               int
	rejoin                bool // testing.rejoin_below_lib on every node
}

func startCluster(t testing.TB, o clusterOpts) *testCluster {
	t.Helper()
	n := o.validators + o.executors
	dir := t.TempDir()
	spec := config.ClusterSpec{
		Validators: o.validators, Executors: o.executors, Network: o.network,
		SlotDuration: o.slot, ActiveSlotCoeff: o.f, SecurityParam: o.k,
		ChainStart: time.Now().Add(500 * time.Millisecond), ProlongedBootstrap: 500 * time.Millisecond,
		Wallets: o.wallets, WalletFunds: 1000, Seed: 7, DASubnets: 2,
		KZGParamsPath:  repoFile("assets/kzgrs_test_params/kzgrs_test_params"),
		RejoinBelowLIB: o.rejoin,
	}
	c := &testCluster{t: t, dir: dir}
	for i := range n {
		api, test, p2p := freePort(t), freePort(t), freePort(t)
		spec.Addrs = append(spec.Addrs, config.NodeAddrs{
			API: fmt.Sprintf("127.0.0.1:%d", api), Testing: fmt.Sprintf("127.0.0.1:%d", test),
			P2PListen: fmt.Sprintf("127.0.0.1:%d", p2p), P2PDial: fmt.Sprintf("127.0.0.1:%d", p2p),
		})
		spec.DataDirs = append(spec.DataDirs, filepath.Join(dir, "node"+strconv.Itoa(i)))
	}
	cfgs, err := config.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	c.spec = spec
	for i := range cfgs {
		p := filepath.Join(dir, cfgs[i].Node.Name+".yaml")
		if err := config.Write(p, &cfgs[i]); err != nil {
			t.Fatal(err)
		}
		c.paths = append(c.paths, p)
		c.clients = append(c.clients, nodeapi.NewClient("http://"+spec.Addrs[i].API, "http://"+spec.Addrs[i].Testing, nil))
		c.cmds = append(c.cmds, nil)
	}
	t.Cleanup(c.stopAll)
	for i := range cfgs {
		c.start(i)
	}
	c.waitReady()
	return c
}

func repoFile(rel string) string {
	p, _ := filepath.Abs(filepath.Join("..", "..", rel))
	return p
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	logf, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("node%d.log", i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", c.paths[i])
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "NOMOS_LOG_LEVEL=debug")
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { cmd.Wait(); logf.Close() }()
	c.cmds[i] = cmd
}

func (c *testCluster) kill(i int) {
	if cmd := c.cmds[i]; cmd != nil && cmd.Process != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		for cmd.ProcessState == nil {
			time.Sleep(10 * time.Millisecond)
		}
		c.cmds[i] = nil
	}
}

func (c *testCluster) stopAll() {
	for i, cmd := range c.cmds {
		if cmd != nil && cmd.Process != nil {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		_ = i
	}
	deadline := time.Now().Add(5 * time.Second)
	for i, cmd := range c.cmds {
		for cmd != nil && cmd.ProcessState == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if cmd != nil && cmd.ProcessState == nil {
			c.kill(i)
		}
	}
	if c.t.Failed() {
		for i := range c.cmds {
			b, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("node%d.log", i)))
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			c.t.Logf("--- node %d log tail:\n%s", i, b)
		}
	}
}

func (c *testCluster) waitReady() {
	c.t.Helper()
	for i := range c.clients {
		c.waitNode(i)
	}
}

func (c *testCluster) waitNode(i int) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.clients[i].Info(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d not ready: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

func (c *testCluster) infos() ([]nodeapi.Info, error) {
	out := make([]nodeapi.Info, len(c.clients))
	for i, cl := range c.clients {
		if c.cmds[i] == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		in, err := cl.Info(ctx)
		cancel()
		if err != nil {
			return nil, err
		}
		out[i] = in
	}
	return out, nil
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}
