package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelfaults"
)

// Cluster is a deployed host topology. Besides runners.Cluster it offers
// every node control the host can do and reports unexpected exits.
type Cluster struct {
	opts  Options
	log   *slog.Logger
	place placement
	kernelfaults.Faulter
	nodes []*node
	byNam map[string]*node

	exitCh chan error

	mu       sync.Mutex
	exitLog  []NodeExit
	torn     bool
	tornOnce sync.Once
	tornErr  error
}

var (
	_ runners.Cluster      = (*Cluster)(nil)
	_ runners.Restarter    = (*Cluster)(nil)
	_ runners.Killer       = (*Cluster)(nil)
	_ runners.StopStarter  = (*Cluster)(nil)
	_ runners.Pauser       = (*Cluster)(nil)
	_ runners.LogCollector = (*Cluster)(nil)
)

func newCluster(opts Options, place placement, log *slog.Logger) *Cluster {
	c := &Cluster{
		opts: opts, log: log, place: place, byNam: map[string]*node{},
		exitCh: make(chan error, 64),
	}
	c.Faulter = kernelfaults.Faulter{Net: place.net, Log: log, Why: fmt.Errorf(
		"the host cluster runs on loopback; kernel network faults need %s=%s (or %s) and CAP_NET_ADMIN and CAP_SYS_ADMIN",
		env.HostNetwork.Name, NetworkNetns, NetworkAuto)}
	return c
}

func (c *Cluster) add(n *node) {
	c.nodes = append(c.nodes, n)
	c.byNam[n.name] = n
	c.Faulter.Nodes = append(c.Faulter.Nodes, n.name)
}

// Nodes returns the nodes in topology order.
func (c *Cluster) Nodes() []runners.Node {
	out := make([]runners.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// Exited delivers every node exit nobody asked for (a crash, an external
// kill), as a *NodeExit error naming the node, its exit status and its last
// log lines. Exits caused by Stop, Kill, Restart or Teardown are not
// reported. The element type is plain error so the engine can watch any
// runner through interface{ Exited() <-chan error } without importing it.
// The channel is buffered; when nobody reads it, Exits still has every report.
func (c *Cluster) Exited() <-chan error { return c.exitCh }

// Exits returns every unexpected exit so far, oldest first.
func (c *Cluster) Exits() []NodeExit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]NodeExit(nil), c.exitLog...)
}

func (c *Cluster) reportExit(e *NodeExit) {
	c.mu.Lock()
	c.exitLog = append(c.exitLog, *e)
	c.mu.Unlock()
	c.log.Error("node exited unexpectedly", "node", e.Node, "pid", e.PID, "exit_code", e.ExitCode, "signal", e.Signal)
	select {
	case c.exitCh <- e:
	default:
		c.log.Warn("exit report channel full; see Exits()", "node", e.Node)
	}
}

// PID returns the process id of a running node, or 0.
func (c *Cluster) PID(node string) int {
	if n, ok := c.byNam[node]; ok {
		return n.PID()
	}
	return 0
}

// startAll starts every node concurrently and returns the first error.
func (c *Cluster) startAll(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.start(ctx)
		}()
	}
	wg.Wait()
	// Prefer a bind failure so Deploy knows it may retry.
	var first error
	for _, err := range errs {
		var se *startError
		if errors.As(err, &se) && se.bindFailed() {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// lookup finds a node of a live cluster.
func (c *Cluster) lookup(name string) (*node, error) {
	c.mu.Lock()
	torn := c.torn
	c.mu.Unlock()
	if torn {
		return nil, errors.New("the cluster is torn down")
	}
	n, ok := c.byNam[name]
	if !ok {
		return nil, fmt.Errorf("unknown node %q", name)
	}
	return n, nil
}

// Restart stops the node gracefully (SIGTERM, SIGKILL after StopTimeout)
// and starts it again with the same config and data directory.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	if err := n.stop(ctx, syscall.SIGTERM, c.opts.StopTimeout); err != nil {
		return err
	}
	return c.startRetry(ctx, n)
}

// Kill SIGKILLs the node's process group. Start brings it back.
func (c *Cluster) Kill(ctx context.Context, name string) error {
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	return n.stop(ctx, syscall.SIGKILL, 0)
}

// Stop stops the node gracefully; stopping a stopped node does nothing.
func (c *Cluster) Stop(ctx context.Context, name string) error {
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	return n.stop(ctx, syscall.SIGTERM, c.opts.StopTimeout)
}

// Start starts a stopped or killed node with its config and data directory
// and returns once it listens on its API ports.
func (c *Cluster) Start(ctx context.Context, name string) error {
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	return c.startRetry(ctx, n)
}

// startRetry starts a node on its fixed ports, retrying a few times when a
// port is briefly held elsewhere (its peers know these ports, so they stay).
func (c *Cluster) startRetry(ctx context.Context, n *node) error {
	var err error
	for attempt := 0; attempt < deployAttempts; attempt++ {
		err = n.start(ctx)
		var se *startError
		if err == nil || !errors.As(err, &se) || !se.bindFailed() {
			return err
		}
		c.log.Warn("node could not bind its port; retrying", "node", n.name, "attempt", attempt+1)
	}
	return err
}

// Pause freezes the node's process group (SIGSTOP).
func (c *Cluster) Pause(_ context.Context, name string) error {
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	return n.signalRunning(syscall.SIGSTOP, true)
}

// Resume thaws a paused node (SIGCONT).
func (c *Cluster) Resume(_ context.Context, name string) error {
	n, err := c.lookup(name)
	if err != nil {
		return err
	}
	return n.signalRunning(syscall.SIGCONT, false)
}

// CollectLogs copies every node's log (stdout and stderr) to dir/<node>.log.
func (c *Cluster) CollectLogs(_ context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("collect logs: %w", err)
	}
	for _, n := range c.nodes {
		dst := filepath.Join(dir, n.name+".log")
		if err := copyFile(n.logPath, dst); err != nil {
			return fmt.Errorf("collect logs of %s: %w", n.name, err)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	if same, err := samePath(src, dst); err != nil || same {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func samePath(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// Teardown stops every node (SIGTERM, SIGKILL after TeardownGrace), then
// releases the ports or removes the run's network namespaces. It runs once; later and concurrent calls wait for it
// and return its result. The run directory stays.
func (c *Cluster) Teardown(ctx context.Context) error {
	c.tornOnce.Do(func() {
		c.mu.Lock()
		c.torn = true
		c.mu.Unlock()
		errs := make([]error, len(c.nodes))
		var wg sync.WaitGroup
		for i, n := range c.nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = n.close(ctx, c.opts.TeardownGrace)
			}()
		}
		wg.Wait()
		c.tornErr = errors.Join(errs...)
		if left := c.waitGone(ctx); len(left) > 0 {
			c.tornErr = errors.Join(c.tornErr, fmt.Errorf("processes left after teardown: %v", left))
		}
		c.tornErr = errors.Join(c.tornErr, c.place.release())
	})
	return c.tornErr
}

// waitGone gives killed group members that were reparented a moment to be
// reaped, and returns what is still alive after that.
func (c *Cluster) waitGone(ctx context.Context) []string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		left, _ := c.Leftovers(ctx)
		if len(left) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Leftovers lists node process groups that still have live members, as
// "node: process group N". Empty after a successful Teardown.
func (c *Cluster) Leftovers(_ context.Context) ([]string, error) {
	var out []string
	for _, n := range c.nodes {
		for _, g := range n.liveGroups() {
			out = append(out, fmt.Sprintf("%s: process group %d", n.name, g))
		}
	}
	return out, nil
}
