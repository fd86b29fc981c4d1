package host

import (
	"golang.org/x/sys/unix"

	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// tailCount is how many log lines an exit report carries.
const tailCount = 20

// NodeExit reports a node process that exited without being asked to.
type NodeExit struct {
	Node string
	PID  int
	// ExitCode is the exit status, or -1 when a signal ended the process.
	ExitCode int
	// Signal names the signal that ended the process, if any (SIGKILL).
	Signal string
	// LogTail holds the last lines of the node's log.
	LogTail []string
	At      time.Time
}

// Error describes the exit in one line followed by the log tail.
func (e *NodeExit) Error() string {
	how := fmt.Sprintf("exit status %d", e.ExitCode)
	if e.Signal != "" {
		how = "ended by signal " + e.Signal
	}
	s := fmt.Sprintf("node %s (pid %d) exited unexpectedly: %s", e.Node, e.PID, how)
	if len(e.LogTail) > 0 {
		s += "; last log lines:\n  " + strings.Join(e.LogTail, "\n  ")
	}
	return s
}

func newNodeExit(name string, cmd *exec.Cmd, tail []string) *NodeExit {
	e := &NodeExit{Node: name, PID: cmd.Process.Pid, LogTail: tail, At: time.Now()}
	e.ExitCode = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = unix.SignalName(ws.Signal())
	}
	return e
}

// exitText describes a wait error for messages.
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// tailLines returns up to n last non-empty lines of the file at path.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const window = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		if _, err := f.Seek(-window, io.SeekEnd); err != nil {
			return nil
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	var lines []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		if s := strings.TrimRight(string(l), "\r"); strings.TrimSpace(s) != "" {
			lines = append(lines, s)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
