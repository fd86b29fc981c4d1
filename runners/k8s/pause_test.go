package k8s

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/simnode/cli"
)

// execRecorder stands in for pods/exec: it records each command and answers
// with reply.
type execRecorder struct {
	mu    sync.Mutex
	calls []string // "pod container cmd..."
	reply func(cmd []string) (string, string, error)
}

func (e *execRecorder) exec(_ context.Context, pod, container string, cmd []string) (string, string, error) {
	e.mu.Lock()
	e.calls = append(e.calls, pod+" "+container+" "+strings.Join(cmd, " "))
	e.mu.Unlock()
	return e.reply(cmd)
}

func (e *execRecorder) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.calls
	e.calls = nil
	return c
}

func deployFake(t *testing.T, mod func(*Options)) (*fakeCluster, *Cluster, *execRecorder) {
	t.Helper()
	f := newFakeCluster(t)
	cl, err := fakeRunner(t, f, mod).Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(2), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c := cl.(*Cluster)
	t.Cleanup(func() { c.Teardown(context.Background()) })
	rec := &execRecorder{}
	c.exec = rec.exec
	return f, c, rec
}

// TestPauseFindsTheNodeCommand: with the image's entrypoint unknown, pause
// tries the reference node's command line, then that of a binary embedding
// the node, and keeps the one that worked.
func TestPauseFindsTheNodeCommand(t *testing.T) {
	_, c, rec := deployFake(t, nil)
	rec.reply = func(cmd []string) (string, string, error) {
		if cmd[1] != "node" {
			return "", `nomosrun: unknown command "signal"`, errors.New("command terminated with exit code 2")
		}
		return "signalled 1 process(es) with " + cmd[3] + "\n", "", nil
	}
	ctx := context.Background()
	if err := c.Pause(ctx, "validator-1"); err != nil {
		t.Fatal(err)
	}
	pods, _ := c.podsOf(ctx, "validator-1")
	want := []string{
		pods[0].Name + " node /usr/local/bin/nomos-node signal stop",
		pods[0].Name + " node /usr/local/bin/nomos-node node signal stop",
	}
	if got := rec.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("execs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := c.Resume(ctx, "validator-1"); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || !strings.HasSuffix(got[0], "nomos-node node signal cont") {
		t.Errorf("resume execs %q, want only the command line that worked", got)
	}
}

// TestPauseErrors: the subcommand's own failure is reported at once; an
// unknown or stopped node is an error naming it.
func TestPauseErrors(t *testing.T) {
	_, c, rec := deployFake(t, func(o *Options) { o.Command = []string{"/simnode"} })
	rec.reply = func(cmd []string) (string, string, error) {
		return "", "signal: no other process runs this executable in this PID namespace\n",
			errors.New("command terminated with exit code 1")
	}
	ctx := context.Background()
	err := c.Pause(ctx, "validator-0")
	if err == nil || !strings.Contains(err.Error(), "no other process runs this executable") || !strings.Contains(err.Error(), "pause validator-0") {
		t.Errorf("pause error %v, want the subcommand's message", err)
	}
	if got := rec.take(); len(got) != 1 || !strings.HasSuffix(got[0], " node /simnode signal stop") {
		t.Errorf("execs %q, want one with the Command option", got)
	}
	if err := c.Pause(ctx, "nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("pause of an unknown node: %v", err)
	}
	if err := c.Stop(ctx, "validator-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Resume(ctx, "validator-1"); err == nil || !strings.Contains(err.Error(), "no running pod") {
		t.Errorf("resume of a stopped node: %v", err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("execs %q with no pod", got)
	}
}

// TestPauseForbidden: a user without pods/exec learns which permission is missing.
func TestPauseForbidden(t *testing.T) {
	_, c, rec := deployFake(t, nil)
	rec.reply = func([]string) (string, string, error) {
		return "", "", errors.New(`pods "validator-0-abc" is forbidden: User "ci" cannot create resource "pods/exec" in API group "" in the namespace "ns"`)
	}
	err := c.Pause(context.Background(), "validator-0")
	if err == nil || !strings.Contains(err.Error(), "needs permission to create pods/exec") {
		t.Errorf("pause error %v, want the missing permission named", err)
	}
	if got := rec.take(); len(got) != 1 {
		t.Errorf("execs %q, want one: a refusal is not retried with another command line", got)
	}
}

// TestResumeWaitsForReady: Resume returns only once the pod is ready again.
func TestResumeWaitsForReady(t *testing.T) {
	f, c, rec := deployFake(t, nil)
	ctx := context.Background()
	setReady := func(ready bool) {
		pods, _ := c.podsOf(ctx, "validator-0")
		p := pods[0]
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
		if _, err := f.CoreV1().Pods(c.ns).UpdateStatus(ctx, &p, metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}
	const delay = 300 * time.Millisecond
	rec.reply = func(cmd []string) (string, string, error) {
		if cmd[len(cmd)-1] == "cont" {
			time.AfterFunc(delay, func() { setReady(true) })
		}
		return "signalled 1 process(es)\n", "", nil
	}
	if err := c.Pause(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	setReady(false) // the readiness probe fails while the node is frozen
	start := time.Now()
	if err := c.Resume(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("resume returned after %v, before the pod was ready again (%v)", took, delay)
	}
}

// TestSignalCommandIsTheNodes: the runner names the reference node's
// subcommand itself, so it does not depend on the node's packages.
func TestSignalCommandIsTheNodes(t *testing.T) {
	if signalCommand != cli.SignalCommand {
		t.Fatalf("signalCommand = %q, the node's is %q", signalCommand, cli.SignalCommand)
	}
}

// TestPauseOnImageWithoutSignal: when no command line runs the signal
// subcommand (an image whose node binary is not the reference node), the
// error names that cause and the image, after trying every form.
func TestPauseOnImageWithoutSignal(t *testing.T) {
	_, c, rec := deployFake(t, func(o *Options) { o.Image = "example/other-node:1" })
	rec.reply = func(cmd []string) (string, string, error) {
		return "", `exec: "/usr/local/bin/nomos-node": stat /usr/local/bin/nomos-node: no such file or directory`,
			errors.New("command terminated with exit code 126")
	}
	err := c.Pause(context.Background(), "validator-0")
	if !errors.Is(err, errNoSignalCommand) || !strings.Contains(err.Error(), "example/other-node:1") ||
		!strings.Contains(err.Error(), "no such file") {
		t.Errorf("pause error %v, want errNoSignalCommand naming the image and the exec failure", err)
	}
	if got := rec.take(); len(got) != 2 {
		t.Errorf("execs %q, want both command lines tried", got)
	}
}
