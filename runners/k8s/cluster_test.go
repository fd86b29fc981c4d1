package k8s

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodekind/cometbft"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/runnertest"
)

// realRunner is a runner on the cluster of the current kubeconfig; the test
// is skipped (failed under CI) when there is none.
func realRunner(tb testing.TB, mod func(*Options)) *Runner {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs pods on a real cluster; skipped with -short")
	}
	cfg, err := LoadConfig()
	if err == nil {
		var cs *kubernetes.Clientset
		if cs, err = kubernetes.NewForConfig(cfg); err == nil {
			_, err = cs.Discovery().ServerVersion()
		}
	}
	testenv.Require(tb, "a Kubernetes cluster (KUBECONFIG; tools/k8s/up.sh)", err)
	opts := Options{}
	if mod != nil {
		mod(&opts)
	}
	r, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestConformance(t *testing.T) {
	runnertest.Conformance(t, "", func(t *testing.T) runners.Runner { return realRunner(t, nil) })
}

// TestConformanceCometBFT runs the suite on CometBFT pods: the kind's image
// (nomosrun image save --node cometbft, imported into the cluster), its
// rendered home installed by an init container, pause through the
// reference node binary beside the cometbft program.
func TestConformanceCometBFT(t *testing.T) {
	_, err := cometbft.Binary()
	testenv.Require(t, "the cometbft binary", err)
	runnertest.Conformance(t, cometbft.Name, func(t *testing.T) runners.Runner { return realRunner(t, nil) })
}

// TestPortForward runs the node APIs through client-go port-forwards instead
// of NodePorts, across a restart.
func TestPortForward(t *testing.T) {
	r := realRunner(t, func(o *Options) { o.PortForward = true })
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(2), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Teardown(ctx)
	n := c.Nodes()[1]
	h := waitHeight(t, n, 1, time.Minute)
	if err := c.(*Cluster).Restart(ctx, n.Name()); err != nil {
		t.Fatal(err)
	}
	waitHeight(t, n, h+1, time.Minute)
}

// TestRestartedPodCatchesUp restarts one node of four while the others keep
// producing: the new pod rejoins and reaches the others' height.
func TestRestartedPodCatchesUp(t *testing.T) {
	r := realRunner(t, nil)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(4), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Teardown(ctx)
	nodes := c.Nodes()
	waitHeight(t, nodes[3], 2, time.Minute)
	kc := c.(*Cluster)
	if err := kc.Stop(ctx, nodes[3].Name()); err != nil {
		t.Fatal(err)
	}
	stopped := height(nodes[0])
	target := waitHeight(t, nodes[0], stopped+5, time.Minute)
	if err := kc.Start(ctx, nodes[3].Name()); err != nil {
		t.Fatal(err)
	}
	got := waitHeight(t, nodes[3], target, time.Minute)
	t.Logf("%s: stopped while the others were at %d, caught up to %d", nodes[3].Name(), stopped, got)
}

// TestInterruptedDeployLeavesNothing cancels a deploy while its pods start:
// the namespace is gone afterwards.
func TestInterruptedDeployLeavesNothing(t *testing.T) {
	ns := fmt.Sprintf("nomosrun-interrupt-%d", time.Now().UnixNano()%1e9)
	r := realRunner(t, func(o *Options) { o.Namespace = ns })
	client, _, err := r.connect()
	if err != nil {
		t.Fatal(err)
	}
	exists := func() bool {
		_, err := client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		return err == nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	created := make(chan struct{})
	go func() {
		// Cancel once the run's namespace exists and its pods are starting.
		for !exists() {
			time.Sleep(20 * time.Millisecond)
		}
		close(created)
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	_, err = r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(3), ChainStart: time.Now()})
	if err == nil {
		t.Fatal("deploy succeeded despite the cancel")
	}
	select {
	case <-created:
	default:
		t.Fatalf("deploy failed before creating its namespace: %v", err)
	}
	if exists() {
		t.Errorf("an interrupted deploy left namespace %s", ns)
	}
}

// height is n's tip height, 0 when it does not answer.
func height(n runners.Node) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	in, err := nodeapi.NewClient(n.API(), n.TestingAPI(), http.DefaultClient).Info(ctx)
	if err != nil {
		return 0
	}
	return in.Height
}

// waitHeight waits until n reaches height h and returns the height seen.
func waitHeight(t *testing.T, n runners.Node, h uint64, limit time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if got := height(n); got >= h {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach height %d within %v (at %d)", n.Name(), h, limit, height(n))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
