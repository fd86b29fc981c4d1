package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// killDuring starts nomosrun with args and env, waits until a line of its
// output contains marker and then for settle, and kills it with SIGKILL. It
// returns the output and the process id.
func killDuring(t *testing.T, env []string, wait, settle time.Duration, marker string, args ...string) (string, int) {
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
	time.Sleep(settle)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	return output(), cmd.Process.Pid
}

// ownedNamespace returns the run namespace whose owner annotation is owner.
func ownedNamespace(t *testing.T, cs kubernetes.Interface, owner string) string {
	t.Helper()
	l, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: "nomosrun.io/run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range l.Items {
		if ns.Annotations["nomosrun.io/owner"] == owner {
			return ns.Name
		}
	}
	return ""
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
	// The run makes its own namespace, whose owner annotation names the
	// killed process. The kill comes a few seconds into the partition.
	out, pid := killDuring(t, nil, 5*time.Minute, 5*time.Second, "fault start f1",
		"run", "testdata/e2e/kill_partition.star", "--runner", "k8s", "--run-dir", t.TempDir())
	host, _ := os.Hostname()
	ns := ownedNamespace(t, cs, host+":"+strconv.Itoa(pid))
	if ns == "" {
		t.Fatalf("no namespace owned by the killed nomosrun (pid %d):\n%s", pid, tail(out, 30))
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
