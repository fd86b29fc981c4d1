package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

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

// testNamespace is a fresh namespace name for one run, given through
// K8S_RUNNER_NAMESPACE so the test can find exactly its run's namespace
// while other runs share the cluster.
func testNamespace(name string) string {
	return fmt.Sprintf("e2e-%s-%d", strings.ReplaceAll(name, "_", "-"), time.Now().UnixNano()%1e9)
}

// namespaceExists reports whether namespace ns exists.
func namespaceExists(t *testing.T, cs kubernetes.Interface, ns string) bool {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestE2EExamplesK8s runs every example with --runner k8s and asserts the
// same passing verdict as on the host runner.
func TestE2EExamplesK8s(t *testing.T) {
	k8sClient(t) // needs a reachable cluster
	for _, file := range exampleFiles(t) {
		runExampleOn(t, "k8s", file, 6*time.Minute, nil)
	}
}

// TestE2ECometBFTK8s runs the CometBFT smoke example with --runner k8s:
// CometBFT pods from the kind's image (imported into the cluster like the
// reference node's, see tools/ci.d/30-k8s.sh) reach the passing verdict of
// the other runners.
func TestE2ECometBFTK8s(t *testing.T) {
	k8sClient(t) // needs a reachable cluster
	runExampleOn(t, "k8s", "../../examples/cometbft/smoke.star", 6*time.Minute, nil)
}

// TestE2EMustFailK8s runs the liveness and safety must-fail scenarios with
// --runner k8s: the same broken runs fail with the same messages.
func TestE2EMustFailK8s(t *testing.T) {
	k8sClient(t) // needs a reachable cluster
	for _, pattern := range []string{"liveness_*", "safety_*"} {
		for _, file := range mustFailFiles(t, pattern) {
			runMustFailOn(t, "k8s", file, 6*time.Minute)
		}
	}
}

// TestE2EInterruptK8s stops a k8s run with SIGINT during the drive phase:
// nomosrun exits 7 and the run's namespace is gone.
func TestE2EInterruptK8s(t *testing.T) {
	cs := k8sClient(t)
	ns := testNamespace("interrupt")
	interruptDuringDrive(t, []string{"K8S_RUNNER_NAMESPACE=" + ns}, 3*time.Minute, func(string) {
		if !namespaceExists(t, cs, ns) {
			t.Fatalf("the run's namespace %s does not exist before the interrupt", ns)
		}
	}, "run", "testdata/e2e/interrupt.star", "--runner", "k8s", "--run-dir", t.TempDir())
	if namespaceExists(t, cs, ns) {
		t.Errorf("namespace %s still there after the interrupt", ns)
	}
}
