package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/runners/k8s"
)

// k8sClient returns a client of the current kubeconfig's cluster; the test
// is skipped (failed under CI) when no cluster answers.
func k8sClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	needBinary(t)
	cfg, err := k8s.LoadConfig()
	var cs *kubernetes.Clientset
	if err == nil {
		if cs, err = kubernetes.NewForConfig(cfg); err == nil {
			_, err = cs.Discovery().ServerVersion()
		}
	}
	testenv.Require(t, "a Kubernetes cluster (KUBECONFIG; tools/k8s/up.sh)", err)
	return cs
}

// runNamespaces lists the namespaces nomosrun runs created.
func runNamespaces(t *testing.T, cs kubernetes.Interface) map[string]bool {
	t.Helper()
	l, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=nomosrun"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, ns := range l.Items {
		out[ns.Name] = true
	}
	return out
}

// TestE2EExamplesK8s runs every example with --runner k8s and asserts the
// same passing verdict as on the host runner. An example that needs what
// Kubernetes cannot do (pausing a node) must be rejected before anything
// starts, naming it.
func TestE2EExamplesK8s(t *testing.T) {
	cs := k8sClient(t)
	files, err := filepath.Glob("../../examples/*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	before := runNamespaces(t, cs)
	// The group returns once every parallel run is done.
	t.Run("group", func(t *testing.T) {
		for _, file := range files {
			runExampleK8s(t, file)
		}
	})
	for ns := range runNamespaces(t, cs) {
		if !before[ns] {
			t.Errorf("namespace %s left after the runs", ns)
		}
	}
}

func runExampleK8s(t *testing.T, file string) {
	name := strings.TrimSuffix(filepath.Base(file), ".star")
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		e2eSlots <- struct{}{}
		defer func() { <-e2eSlots }()
		dir := filepath.Join(t.TempDir(), "run")
		r := runCLI(t, 6*time.Minute, nil, "run", file, "--runner", "k8s", "--report-dir", dir)
		t.Logf("%s: exit %d in %s", name, r.code, r.wall.Round(time.Second))
		if r.code == int(ExitInvalidPlan) && strings.Contains(r.stderr, string(plan.CapPause)) {
			t.Logf("rejected as expected: the k8s runner cannot pause nodes")
			return
		}
		if r.code != int(ExitOK) {
			t.Fatalf("exit %d, want 0 (run dir %s)\nstdout:\n%s\nstderr:\n%s", r.code, dir, r.stdout, tail(r.stderr, 40))
		}
		checkPassed(t, readReport(t, dir))
	})
}

// TestE2EInterruptK8s stops a k8s run with SIGINT during the drive phase:
// nomosrun exits 7 and the run's namespace is gone.
func TestE2EInterruptK8s(t *testing.T) {
	cs := k8sClient(t)
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	before := runNamespaces(t, cs)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBin, "run", "testdata/e2e/interrupt.star", "--runner", "k8s", "--report-dir", t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	driving, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			text.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "] drive") {
				seen = true
				close(driving)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case <-driving:
	case <-read:
		cmd.Wait()
		t.Fatalf("nomosrun ended before the drive phase:\n%s", text.String())
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-read
		cmd.Wait()
		t.Fatalf("no drive phase within 3m:\n%s", text.String())
	}
	var ours []string
	for ns := range runNamespaces(t, cs) {
		if !before[ns] {
			ours = append(ours, ns)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("want the run's one namespace before the interrupt, got %v", ours)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-read
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(ExitInterrupted) {
		t.Fatalf("exit %v, want %d\nstderr:\n%s", err, ExitInterrupted, tail(text.String(), 30))
	}
	if now := runNamespaces(t, cs); now[ours[0]] {
		t.Errorf("namespace %s still there after the interrupt", ours[0])
	}
}
