package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// killDuring starts nomosrun with args and env, waits until a line of its
// output contains marker, and kills it with SIGKILL. It returns the output.
func killDuring(t *testing.T, env []string, wait time.Duration, marker string, args ...string) string {
	t.Helper()
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	cmd := exec.Command(e2eBin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		text strings.Builder
		seen = make(chan struct{})
		once sync.Once
		read = make(chan struct{})
	)
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			text.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), marker) {
				once.Do(func() { close(seen) })
			}
		}
		io.Copy(io.Discard, out)
	}()
	output := func() string { mu.Lock(); defer mu.Unlock(); return text.String() }
	defer func() {
		cmd.Process.Kill()
		<-read
		cmd.Wait()
	}()
	select {
	case <-seen:
	case <-read:
		t.Fatalf("nomosrun ended before %q:\n%s", marker, output())
	case <-time.After(wait):
		t.Fatalf("no %q within %s:\n%s", marker, wait, tail(output(), 40))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	return output()
}

// hostRules dumps the host's policy routing rules and lists its nftables
// tables: neither may change through a run, whatever the other tests
// running meanwhile do to links and routes.
func hostRules(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, c := range [][]string{{"ip", "rule"}, {"nft", "list", "tables"}} {
		out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		if err != nil {
			t.Skipf("%v: %v (the leak test compares the host's dumps)", c, err)
		}
		b.WriteString(string(out))
	}
	return b.String()
}

// TestE2EKilledK8sRunIsCleaned kills nomosrun with SIGKILL while a kernel
// partition holds on Kubernetes: nomosrun clean then deletes the run's
// namespace (pods, network agents and the rules in the pods' namespaces go
// with it), and the host's rules and tables are as before.
func TestE2EKilledK8sRunIsCleaned(t *testing.T) {
	cs := k8sClient(t)
	before := hostRules(t)
	// The run makes its own namespace, which carries the owner annotation.
	out := killDuring(t, nil, 5*time.Minute, "links cut",
		"run", "testdata/e2e/kill_partition.star", "--runner", "k8s", "--run-dir", t.TempDir())
	m := regexp.MustCompile(`namespace=(nomosrun-[0-9a-z]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run namespace in the output:\n%s", tail(out, 40))
	}
	ns := m[1]
	if !namespaceExists(t, cs, ns) {
		t.Fatalf("namespace %s is gone before the clean: the kill was not mid-run", ns)
	}
	got, err := exec.Command(e2eBin, "clean").CombinedOutput()
	if err != nil {
		t.Fatalf("nomosrun clean: %v\n%s", err, got)
	}
	if !strings.Contains(string(got), "removed Kubernetes namespace "+ns) {
		t.Errorf("nomosrun clean did not name %s:\n%s", ns, got)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for namespaceExists(t, cs, ns) {
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there 3 minutes after nomosrun clean", ns)
		}
		time.Sleep(2 * time.Second)
	}
	if after := hostRules(t); after != before {
		t.Errorf("the host's rules or tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
