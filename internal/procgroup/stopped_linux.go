package procgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WaitStopped waits until every thread of process pid is stopped by a
// signal (state T). kill(SIGSTOP) returns before the target has stopped, and
// a busy process can keep serving for a moment; callers that promise a
// frozen node wait here. A process that is gone counts as stopped.
func WaitStopped(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		running, err := runningThreads(pid)
		if err != nil || running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d: %d threads still running %v after SIGSTOP", pid, running, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// runningThreads counts the threads of pid not in a stopped state.
func runningThreads(pid int) (int, error) {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		return 0, fmt.Errorf("no threads of process %d", pid)
	}
	running := 0
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			continue
		}
		// T: stopped by a signal; t: tracing stop; Z/X: gone.
		switch s[i+2] {
		case 'T', 't', 'Z', 'X':
		default:
			running++
		}
	}
	return running, nil
}
