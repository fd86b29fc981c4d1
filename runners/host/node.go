package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/procgroup"
)

// node is one node process slot: its fixed config and its current process.
type node struct {
	name         string
	role         plan.Role
	host         string // the node's address (127.0.0.1 on loopback)
	ports        Ports
	argv         []string
	env          []string
	dataDir      string
	logPath      string
	startTimeout time.Duration
	exits        func(*NodeExit)       // reports unexpected exits
	startCmd     func(*exec.Cmd) error // in the node's namespace in netns mode

	mu       sync.Mutex
	cmd      *exec.Cmd     // current process, nil when not running
	done     chan struct{} // closed when the current process has exited
	expected bool          // the current process is being stopped on purpose
	starting bool          // start has not yet seen the node listen
	paused   bool
	closed   bool  // torn down: never start again
	lastErr  error // the last process's wait error
	pgids    []int // every process group started, for the leftover check
}

// Name returns the plan's node name.
func (n *node) Name() string { return n.name }

// Role returns the node's role.
func (n *node) Role() plan.Role { return n.role }

// API returns the main API's base URL.
func (n *node) API() string { return "http://" + hostPort(n.host, n.ports.API) }

// TestingAPI returns the testing API's base URL.
func (n *node) TestingAPI() string { return "http://" + hostPort(n.host, n.ports.Testing) }

// PID returns the node's process id, or 0 when it is not running.
func (n *node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// startError is a node that exited or hung before listening.
type startError struct {
	node string
	err  error
	tail []string
}

func (e *startError) Error() string {
	msg := fmt.Sprintf("node %s did not start: %v", e.node, e.err)
	if len(e.tail) > 0 {
		msg += "; last log lines:\n  " + strings.Join(e.tail, "\n  ")
	}
	return msg
}

func (e *startError) Unwrap() error { return e.err }

// bindFailed reports whether the node died because a port was taken.
func (e *startError) bindFailed() bool {
	for _, l := range e.tail {
		if strings.Contains(l, "address already in use") {
			return true
		}
	}
	return false
}

// start launches the node and waits until it accepts connections on its API
// and testing ports.
func (n *node) start(ctx context.Context) error {
	done, err := n.spawn()
	if err != nil {
		return err
	}
	err = waitListening(ctx, done, n.startTimeout, n.host, n.ports.API, n.ports.Testing)
	n.mu.Lock()
	n.starting = false
	n.mu.Unlock()
	if err == nil {
		return nil
	}
	if errors.Is(err, errExited) {
		n.mu.Lock()
		err = fmt.Errorf("%w (%v)", errExited, exitText(n.lastErr))
		n.mu.Unlock()
	} else {
		// Hung or cancelled: do not leave it behind.
		_ = n.stop(context.WithoutCancel(ctx), syscall.SIGKILL, 0)
	}
	return &startError{node: n.name, err: err, tail: tailLines(n.logPath, tailCount)}
}

func (n *node) spawn() (chan struct{}, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("node %s: the cluster is torn down", n.name)
	}
	if n.cmd != nil {
		return nil, fmt.Errorf("node %s is already running", n.name)
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("node %s: open log: %w", n.name, err)
	}
	// The child keeps its own copy of the descriptor.
	defer logf.Close()
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
	cmd.Dir = n.dataDir
	cmd.Env = n.env
	cmd.Stdout = logf
	cmd.Stderr = logf
	procgroup.Prepare(cmd)
	if err := n.startCmd(cmd); err != nil {
		return nil, fmt.Errorf("node %s: start %s: %w", n.name, n.argv[0], err)
	}
	done := make(chan struct{})
	n.cmd, n.done, n.expected, n.starting, n.paused = cmd, done, false, true, false
	n.pgids = append(n.pgids, cmd.Process.Pid)
	go n.wait(cmd, done)
	return done, nil
}

// wait reaps the process and reports it when nobody asked it to exit.
func (n *node) wait(cmd *exec.Cmd, done chan struct{}) {
	err := cmd.Wait()
	// Sweep anything the node left in its group.
	_ = procgroup.Signal(cmd.Process.Pid, syscall.SIGKILL)
	n.mu.Lock()
	report := !n.expected && !n.starting
	n.cmd, n.paused, n.lastErr = nil, false, err
	n.mu.Unlock()
	close(done)
	if report && n.exits != nil {
		n.exits(newNodeExit(n.name, cmd, tailLines(n.logPath, tailCount)))
	}
}

// stop sends sig to the node's group and waits up to grace for it to exit,
// then SIGKILLs it. A node that is not running is already stopped.
func (n *node) stop(ctx context.Context, sig syscall.Signal, grace time.Duration) error {
	n.mu.Lock()
	if n.cmd == nil {
		n.mu.Unlock()
		return nil
	}
	pgid, done := n.cmd.Process.Pid, n.done
	n.expected = true
	err := procgroup.Signal(pgid, sig)
	if err == nil && sig != syscall.SIGKILL {
		// A frozen process only acts on SIGTERM once it runs again.
		err = procgroup.Signal(pgid, syscall.SIGCONT)
	}
	n.mu.Unlock()
	if err != nil {
		return fmt.Errorf("node %s: %w", n.name, err)
	}
	if sig != syscall.SIGKILL {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
			return nil
		case <-t.C:
		case <-ctx.Done():
		}
		if err := procgroup.Signal(pgid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("node %s: %w", n.name, err)
		}
	}
	// SIGKILL cannot be ignored; the wait is short. Bound it anyway.
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("node %s (pid %d) did not exit after SIGKILL", n.name, pgid)
	}
}

// close stops the node for good: no later start can race past Teardown.
func (n *node) close(ctx context.Context, grace time.Duration) error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	return n.stop(ctx, syscall.SIGTERM, grace)
}

// signalRunning sends a freeze or thaw signal to a running node.
func (n *node) signalRunning(sig syscall.Signal, paused bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("node %s is not running", n.name)
	}
	pid := n.cmd.Process.Pid
	if err := procgroup.Signal(pid, sig); err != nil {
		return fmt.Errorf("node %s: %w", n.name, err)
	}
	n.paused = paused
	if sig == syscall.SIGSTOP {
		// The signal is asynchronous: return only once the node is frozen.
		if err := procgroup.WaitStopped(pid, 5*time.Second); err != nil {
			return fmt.Errorf("node %s: %w", n.name, err)
		}
	}
	return nil
}

// liveGroups returns the node's process groups that still have members.
func (n *node) liveGroups() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int
	for _, g := range n.pgids {
		if procgroup.Alive(g) {
			out = append(out, g)
		}
	}
	return out
}

var errExited = errors.New("the process exited")

// waitListening polls until every port of host accepts a TCP connection,
// the process exits (done closes), the timeout passes or ctx ends.
func waitListening(ctx context.Context, done <-chan struct{}, timeout time.Duration, host string, ports ...int) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pending := append([]int(nil), ports...)
	for {
		for len(pending) > 0 {
			c, err := net.DialTimeout("tcp", hostPort(host, pending[0]), 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			pending = pending[1:]
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-done:
			return errExited
		case <-deadline.C:
			return fmt.Errorf("port %d not listening after %v", pending[0], timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
