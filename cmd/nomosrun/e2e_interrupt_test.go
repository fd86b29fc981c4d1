package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/env"
)

// TestE2EInterrupt stops a run with SIGINT during the drive phase and
// checks that nomosrun exits 7 and leaves no node process or listening
// port behind.
func TestE2EInterrupt(t *testing.T) {
	needBinary(t)
	var (
		runDir string
		ports  []string
	)
	// Loopback, where a port that still answers can only be this run's:
	// node addresses in netns mode are reused by later runs, and the netns
	// cleanup on interrupt is runners/host's own test.
	stderr := interruptDuringDrive(t, []string{"TMPDIR=" + t.TempDir(), env.HostNetwork.Name + "=loopback"}, 90*time.Second, func(dir string) {
		runDir, ports = dir, apiPorts(t, dir)
		if len(ports) == 0 {
			t.Fatalf("no API addresses in %s/configs", dir)
		}
		// Both checks below must see the cluster alive first, or they prove nothing.
		if pids := processesMentioning(dir); len(pids) == 0 {
			t.Fatalf("no node process mentions the run directory %s before the interrupt", dir)
		}
		for _, addr := range ports {
			if !listening(addr) {
				t.Fatalf("node API %s is not listening before the interrupt", addr)
			}
		}
	}, "run", "testdata/e2e/interrupt.star")
	if pids := processesMentioning(runDir); len(pids) != 0 {
		t.Errorf("node processes left after the interrupt: %v", pids)
	}
	for _, addr := range ports {
		if listening(addr) {
			t.Errorf("node API %s still accepts connections after the interrupt", addr)
		}
	}
	// A run that did not pass keeps its run directory and says where it is.
	if _, err := os.Stat(runDir); err == nil {
		t.Logf("interrupted run kept its run directory %s", runDir)
		if !strings.Contains(stderr, "run directory kept at "+runDir) {
			t.Errorf("run directory %s left behind without notice:\n%s", runDir, stderr)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}

// interruptDuringDrive runs nomosrun with args and env (added to this
// process's), holding an e2e slot. Once the drive phase starts it calls live
// with the run directory nomosrun printed, sends SIGINT, asserts exit 7 and
// returns what nomosrun wrote to stderr. wait bounds the time to the drive
// phase.
func interruptDuringDrive(t *testing.T, env []string, wait time.Duration, live func(runDir string), args ...string) string {
	t.Helper()
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), wait+3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		errText strings.Builder
		driving = make(chan struct{})
		once    sync.Once
		read    = make(chan struct{})
	)
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			errText.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "] drive") {
				once.Do(func() { close(driving) })
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	stderrText := func() string { mu.Lock(); defer mu.Unlock(); return errText.String() }
	// A failed check below must not leave nomosrun and its cluster running.
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-read
			cmd.Wait()
		}
	}()

	select {
	case <-driving:
	case <-read:
		t.Fatalf("nomosrun ended before the drive phase:\n%s", stderrText())
	case <-time.After(wait):
		t.Fatalf("no drive phase within %s:\n%s", wait, stderrText())
	}
	m := regexp.MustCompile(`run directory (\S+)`).FindStringSubmatch(stderrText())
	if m == nil {
		t.Fatalf("nomosrun did not print its run directory:\n%s", stderrText())
	}
	live(m[1])

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	<-read
	err = cmd.Wait()
	stopped = true
	t.Logf("nomosrun stopped %s after SIGINT", time.Since(start).Round(time.Millisecond))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(ExitInterrupted) {
		t.Fatalf("exit %v, want %d\nstderr:\n%s", err, ExitInterrupted, tail(stderrText(), 30))
	}
	return stderrText()
}

// apiPorts returns the HTTP and testing API addresses of every node config
// in the run directory.
func apiPorts(t *testing.T, runDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(runDir, "configs", "*", "node.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`address: (127\.0\.0\.1:\d+)`)
	var addrs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			addrs = append(addrs, m[1])
		}
	}
	return addrs
}

// listening reports whether addr accepts a TCP connection.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// processesMentioning lists the PIDs (from /proc) whose command line
// contains s.
func processesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		pids = append(pids, e.Name()+": "+strings.ReplaceAll(string(bytes.TrimRight(b, "\x00")), "\x00", " "))
	}
	return pids
}
