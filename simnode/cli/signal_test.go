package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSignalHelper is the process the signal tests freeze: a copy of the
// test binary that sleeps until killed.
func TestSignalHelper(t *testing.T) {
	if os.Getenv("NOMOS_SIGNAL_HELPER") != "1" {
		t.Skip("helper process for TestSignalStopCont")
	}
	time.Sleep(time.Minute)
}

// procState is the state letter of /proc/PID/stat (T: stopped).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return rest[:1]
}

// waitState polls until the process is in (or, with not, out of) state want.
func waitState(t *testing.T, pid int, want string, not bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := procState(t, pid)
		if (got == want) != not {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d: state %s, want %s%s", pid, got, map[bool]string{true: "not "}[not], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignalStopCont(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"signal", "stop"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no other process") {
		t.Fatalf("no peer: exit %d %q, want 1 and an error", code, errb.String())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalHelper$")
	cmd.Env = append(os.Environ(), "NOMOS_SIGNAL_HELPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid // Start returns after the exec: the child runs this executable

	out.Reset()
	if code := Main(context.Background(), []string{"signal", "stop"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "signalled 1 process(es) with stop") {
		t.Fatalf("stop: exit %d %q %q", code, out.String(), errb.String())
	}
	waitState(t, pid, "T", false)
	out.Reset()
	if code := Main(context.Background(), []string{"signal", "cont"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "signalled 1 process(es) with cont") {
		t.Fatalf("cont: exit %d %q %q", code, out.String(), errb.String())
	}
	waitState(t, pid, "T", true)
}

func TestSignalUsage(t *testing.T) {
	for _, args := range [][]string{{"signal"}, {"signal", "kill"}, {"signal", "stop", "program", "extra"}} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "stop|cont") {
			t.Errorf("%q: exit %d %q, want 2 and the usage", args, code, errb.String())
		}
	}
}

// TestSignalProgram: with a program, signal freezes the processes running
// that file, not those running its own executable.
func TestSignalProgram(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other-node")
	if err := os.WriteFile(other, b, 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"signal", "stop", other}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no process runs "+other) {
		t.Fatalf("no process: exit %d %q, want 1 and an error naming the program", code, errb.String())
	}
	cmd := exec.Command(other, "-test.run=^TestSignalHelper$")
	cmd.Env = append(os.Environ(), "NOMOS_SIGNAL_HELPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid

	errb.Reset()
	if code := Main(context.Background(), []string{"signal", "stop"}, &out, &errb); code != 1 {
		t.Fatalf("without the program, signal found a peer: exit %d %q", code, out.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"signal", "stop", other}, &out, &errb); code != 0 || !strings.Contains(out.String(), "signalled 1 process(es) with stop") {
		t.Fatalf("stop: exit %d %q %q", code, out.String(), errb.String())
	}
	waitState(t, pid, "T", false)
	out.Reset()
	if code := Main(context.Background(), []string{"signal", "cont", other}, &out, &errb); code != 0 || !strings.Contains(out.String(), "signalled 1 process(es) with cont") {
		t.Fatalf("cont: exit %d %q %q", code, out.String(), errb.String())
	}
	waitState(t, pid, "T", true)
	errb.Reset()
	if code := Main(context.Background(), []string{"signal", "stop", filepath.Join(t.TempDir(), "missing")}, &out, &errb); code != 1 || !strings.HasPrefix(errb.String(), "signal:") {
		t.Errorf("missing program: exit %d %q", code, errb.String())
	}
}
