package feed

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// gated answers its first Info only once released: a node slow to answer
// one poll.
type gated struct {
	*chainSource
	calls   atomic.Int32
	release chan struct{}
}

func (g *gated) Info(ctx context.Context) (nodeapi.Info, error) {
	if g.calls.Add(1) == 1 {
		<-g.release
	}
	return g.chainSource.Info(ctx)
}

// locked is a source safe to change while polls read it.
type locked struct {
	mu sync.Mutex
	*chainSource
}

func (l *locked) Info(ctx context.Context) (nodeapi.Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.chainSource.Info(ctx)
}

func (l *locked) Block(ctx context.Context, id string) (*nodeapi.Block, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.chainSource.Block(ctx, id)
}

func (l *locked) add(id, parent string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chainSource.add(id, parent, 0)
}

// A poll held up by a slow node finishes after a later poll: its states
// are older and must not reach the observers after the newer ones, or a
// node would seem to go back (a LIB moving back where none did).
func TestAnOlderPollNeverOverwritesANewerOne(t *testing.T) {
	slow := &gated{chainSource: newSource(), release: make(chan struct{})}
	fast := &locked{chainSource: newSource()}
	fast.add("b1", "g")
	f := New(map[string]Source{"a": slow, "b": fast}, nil)
	var mu sync.Mutex
	var tips []string
	f.OnNode(func(node string, s NodeState) {
		if node == "b" {
			mu.Lock()
			tips = append(tips, s.Info.Tip)
			mu.Unlock()
		}
	})
	first := make(chan struct{})
	go func() { f.Poll(context.Background()); close(first) }()
	time.Sleep(50 * time.Millisecond) // the first poll has read b1, and waits on a
	fast.add("b2", "b1")
	go func() { time.Sleep(50 * time.Millisecond); close(slow.release) }()
	f.Poll(context.Background()) // sees b2; its own call to a is not gated
	<-first
	mu.Lock()
	defer mu.Unlock()
	if len(tips) == 0 || tips[len(tips)-1] != "b2" {
		t.Fatalf("b's states reached the observer as %v: an older poll came last", tips)
	}
	if got := f.Nodes()["b"].Info.Tip; got != "b2" {
		t.Errorf("the feed holds b at %s after both polls, want b2", got)
	}
}
