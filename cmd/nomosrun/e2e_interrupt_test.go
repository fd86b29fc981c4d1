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
)

// TestE2EInterrupt stops a run with SIGINT during the drive phase and
// checks that nomosrun exits 7 and leaves no node process or listening
// port behind.
func TestE2EInterrupt(t *testing.T) {
	needBinary(t)
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBin, "run", "testdata/e2e/interrupt.star")
	// The run directory is a temporary directory: keep it under the test's.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
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

	select {
	case <-driving:
	case <-read:
		cmd.Wait()
		t.Fatalf("nomosrun ended before the drive phase:\n%s", stderrText())
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no drive phase within 90s:\n%s", stderrText())
	}
	m := regexp.MustCompile(`run directory (\S+)`).FindStringSubmatch(stderrText())
	if m == nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("nomosrun did not print its run directory:\n%s", stderrText())
	}
	runDir := m[1]
	ports := apiPorts(t, runDir)
	if len(ports) == 0 {
		t.Fatalf("no API addresses in %s/configs", runDir)
	}
	// Both checks below must see the cluster alive first, or they prove nothing.
	if pids := processesMentioning(runDir); len(pids) == 0 {
		t.Fatalf("no node process mentions the run directory %s before the interrupt", runDir)
	}
	for _, addr := range ports {
		if !listening(addr) {
			t.Fatalf("node API %s is not listening before the interrupt", addr)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	<-read
	err = cmd.Wait()
	t.Logf("nomosrun stopped %s after SIGINT", time.Since(start).Round(time.Millisecond))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(ExitInterrupted) {
		t.Fatalf("exit %v, want %d\nstderr:\n%s", err, ExitInterrupted, tail(stderrText(), 30))
	}
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
		if !strings.Contains(stderrText(), "run directory kept at "+runDir) {
			t.Errorf("run directory %s left behind without notice:\n%s", runDir, stderrText())
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}

// apiPorts returns the HTTP and testing API addresses of every node config
// in the run directory.
func apiPorts(t *testing.T, runDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(runDir, "configs", "*.yaml"))
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
