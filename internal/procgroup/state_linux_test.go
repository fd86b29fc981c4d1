package procgroup

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitState polls /proc/pid/stat until the process is in state want (or 2 s
// pass) and returns the last state seen.
func waitState(t *testing.T, pid int, want byte) byte {
	t.Helper()
	var got byte
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatalf("read stat: %v", err)
		}
		// The state follows the parenthesised command name.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			t.Fatalf("unexpected stat line %q", s)
		}
		got = s[i+2]
		if got == want {
			break
		}
	}
	return got
}

func TestStopAndContinue(t *testing.T) {
	cmd := startSleeper(t)
	pid := cmd.Process.Pid
	if err := Signal(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP: %v", err)
	}
	if got := waitState(t, pid, 'T'); got != 'T' {
		t.Fatalf("state after SIGSTOP = %c, want T", got)
	}
	if err := Signal(pid, syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT: %v", err)
	}
	if got := waitState(t, pid, 'S'); got != 'S' {
		t.Fatalf("state after SIGCONT = %c, want S", got)
	}
}

func TestWaitStopped(t *testing.T) {
	cmd := startSleeper(t)
	pid := cmd.Process.Pid
	if err := WaitStopped(pid, 100*time.Millisecond); err == nil {
		t.Fatal("WaitStopped succeeded on a running process")
	}
	if err := Signal(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := WaitStopped(pid, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := waitState(t, pid, 'T'); got != 'T' {
		t.Fatalf("state = %c after WaitStopped", got)
	}
}
