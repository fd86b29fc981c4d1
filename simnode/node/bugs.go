package node

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// Test-only fault injection: each bug makes the node break the protocol on
// purpose, so a test can prove that a checker catches it. All are off at
// start; the testing API switches them (nodeapi.Bugs names them).

// bug indexes the switches.
type bug int

const (
	bugStopProposing bug = iota
	bugStopApplying
	bugRevertFinalized
	bugDropTransactions
	bugDropDAShares
	numBugs
)

var bugNames = [numBugs]string{
	bugStopProposing:    nodeapi.BugStopProposing,
	bugStopApplying:     nodeapi.BugStopApplying,
	bugRevertFinalized:  nodeapi.BugRevertFinalized,
	bugDropTransactions: nodeapi.BugDropTransactions,
	bugDropDAShares:     nodeapi.BugDropDAShares,
}

// bugSet is the state of every bug.
type bugSet [numBugs]atomic.Bool

// bugOn reports whether b is switched on.
func (n *Node) bugOn(b bug) bool { return n.bugs[b].Load() }

// UnknownBugError names a bug the node does not have.
type UnknownBugError struct{ Name string }

func (e *UnknownBugError) Error() string {
	return fmt.Sprintf("unknown bug %q; known bugs: %s", e.Name, strings.Join(nodeapi.BugNames(), ", "))
}

// Bugs is the state of every test-only bug.
func (n *Node) Bugs() nodeapi.Bugs {
	out := nodeapi.Bugs{}
	for b, name := range bugNames {
		out[name] = n.bugs[b].Load()
	}
	return out
}

// SetBugs switches the named bugs and leaves the others as they are. An
// unknown name changes nothing and returns an *UnknownBugError.
func (n *Node) SetBugs(set nodeapi.Bugs) error {
	for name := range set {
		if !slices.Contains(bugNames[:], name) {
			return &UnknownBugError{Name: name}
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for b, name := range bugNames {
		v, ok := set[name]
		if !ok || n.bugs[b].Swap(v) == v {
			continue
		}
		if v {
			n.log.Warn("test bug switched on: the node now breaks the protocol", "bug", name)
		} else {
			n.log.Warn("test bug switched off", "bug", name)
		}
		if bug(b) == bugRevertFinalized {
			n.tree.SetRevertFinalized(v)
		}
	}
	return nil
}

// activeBugs lists the switched-on bugs, sorted.
func (n *Node) activeBugs() []string {
	var out []string
	for b, name := range bugNames {
		if n.bugs[b].Load() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
