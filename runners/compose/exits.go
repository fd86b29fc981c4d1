package compose

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// NodeExit reports a node container that stopped without being asked to.
type NodeExit struct {
	Node      string
	Container string
	ExitCode  string // as the engine reports it
	LogTail   string
}

// Error describes the exit in one line followed by the log tail.
func (e *NodeExit) Error() string {
	return fmt.Sprintf("node %s (container %s) exited unexpectedly: exit status %s%s", e.Node, e.Container, e.ExitCode, e.LogTail)
}

// exitWatch follows the engine's die events of the run's containers and
// reports those nobody asked for.
type exitWatch struct {
	ch     chan error
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	expected map[string]int // node -> dies caused by Stop, Kill, Restart
	stopped  bool           // teardown began: every exit is expected
}

// Exited delivers every container exit nobody asked for (a crash, an
// external docker kill) as a *NodeExit naming the node, its exit status and
// its last log lines. Exits caused by Stop, Kill, Restart or Teardown are
// not reported. The channel is buffered and never closed.
func (c *Cluster) Exited() <-chan error { return c.exits.ch }

// watchExits starts following the run's container events.
func (c *Cluster) watchExits() {
	ctx, cancel := context.WithCancel(context.Background())
	w := &exitWatch{ch: make(chan error, 64), cancel: cancel, done: make(chan struct{}), expected: map[string]int{}}
	c.exits = w
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("event", string(events.ActionDie)),
		filters.Arg("label", LabelRun+"="+c.runID))
	msgs, errs := c.cli.Events(ctx, events.ListOptions{Filters: f})
	go func() {
		defer close(w.done)
		for {
			select {
			case m := <-msgs:
				node := m.Actor.Attributes[LabelNode]
				if node == "" || w.take(node) {
					continue
				}
				e := &NodeExit{Node: node, Container: strings.TrimPrefix(m.Actor.Attributes["name"], "/"), ExitCode: m.Actor.Attributes["exitCode"]}
				if n, ok := c.byName[node]; ok {
					e.LogTail = c.tail(ctx, n)
				}
				select {
				case w.ch <- e:
				default:
				}
			case err := <-errs:
				if ctx.Err() == nil {
					c.log.Warn("stopped following container exits", "err", err)
				}
				return
			}
		}
	}()
}

// expect records that the next die event of node is asked for.
func (w *exitWatch) expect(node string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expected[node]++
}

// take consumes an expected die of node; false means nobody asked for it.
func (w *exitWatch) take(node string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return true
	}
	if w.expected[node] > 0 {
		w.expected[node]--
		return true
	}
	return false
}

// stop ends the watch before teardown stops the containers.
func (w *exitWatch) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.cancel()
	<-w.done
}
