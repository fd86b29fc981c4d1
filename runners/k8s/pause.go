package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/nomosrun/nomosrun/nodeimage"
)

// containerName is the node's container in its pod.
const containerName = "node"

// signalCommand is the reference node's hidden subcommand that freezes
// ("signal stop") and thaws ("signal cont") the node process, or with a
// program after it the processes running that program, a node of another
// kind (simnode/cli.SignalCommand; a test keeps the two equal without
// making the runner depend on the node). Only images holding nomosrun's
// reference node binary, such as those nomosrun image build makes for any
// kind, have it: the node image is FROM scratch, with no shell or kill to
// send signals otherwise. Pause on another image fails with
// errNoSignalCommand.
const signalCommand = "signal"

// errNoSignalCommand is the cause of a pause that found no node binary with
// the signal subcommand in the pod.
var errNoSignalCommand = errors.New("pause and resume on Kubernetes run the reference node's hidden " +
	signalCommand + " subcommand in the node's pod, and the image's reference node binary has none: " +
	"use a node image built by nomosrun image build, or a scenario without pause (see Pause in docs/kubernetes.md)")

// execFunc runs cmd in a container of a pod and returns its output; err is
// non-nil when it could not run or exited non-zero.
type execFunc func(ctx context.Context, pod, container string, cmd []string) (stdout, stderr string, err error)

// Pause freezes the node: it execs "<node binary> signal stop" in the
// node's pod, which sends SIGSTOP to the node process. The pod's containers
// share a PID namespace, so the node is not PID 1 and the signal is
// delivered. The pod has no liveness probe, so the kubelet does not restart
// the frozen container; it only becomes unready.
func (c *Cluster) Pause(ctx context.Context, name string) error {
	start := time.Now()
	if err := c.signal(ctx, name, "stop"); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	c.log.Info("node paused", "node", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Resume thaws a paused node with SIGCONT and waits until its pod is ready
// and its API answers from here again.
func (c *Cluster) Resume(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.signal(ctx, name, "cont"); err != nil {
		return fmt.Errorf("resume %s: %w", name, err)
	}
	if err := c.waitReady(ctx, []string{name}, c.opts.DeployTimeout); err != nil {
		return fmt.Errorf("resume %s: %w", name, err)
	}
	// The pod may still be marked ready from before the pause; only an answer
	// proves the node runs and its Service routes to it.
	if err := probe(ctx, n.api, c.opts.DeployTimeout); err != nil {
		return fmt.Errorf("resume %s: the node API does not answer: %w", name, err)
	}
	c.log.Info("node resumed", "node", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// signal execs the reference node binary's signal subcommand with op in
// the node's current pod; for another kind it names the kind's program, so
// the helper signals that. Without a Command option the runner does not
// know the image's entrypoint: the node binary is either the reference
// node ("nomos-node signal") or a binary embedding it ("nomos-node node
// signal"). The first form that works is kept for later calls. When no
// form runs, the error wraps errNoSignalCommand.
func (c *Cluster) signal(ctx context.Context, name, op string) error {
	if _, err := c.node(name); err != nil {
		return err
	}
	pods, err := c.podsOf(ctx, name)
	if err != nil {
		return err
	}
	var pod *corev1.Pod
	for i := range pods {
		if p := &pods[i]; p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			pod = p
		}
	}
	if pod == nil {
		return errors.New("no running pod (is the node stopped?)")
	}
	c.execMu.Lock()
	prefixes := c.signalPrefixes()
	c.execMu.Unlock()
	var errs []error
	for _, prefix := range prefixes {
		cmd := append(append([]string{}, prefix...), signalCommand, op)
		if c.program != "" {
			cmd = append(cmd, c.program)
		}
		stdout, stderr, err := c.exec(ctx, pod.Name, containerName, cmd)
		if err == nil {
			c.execMu.Lock()
			c.signalPrefix = prefix
			c.execMu.Unlock()
			c.log.Debug("node signalled", "node", name, "pod", pod.Name, "op", op, "out", strings.TrimSpace(stdout))
			return nil
		}
		if isForbidden(err) {
			return fmt.Errorf("exec in pod %s: %w (pausing a node needs permission to create pods/exec in namespace %s; see the Role in docs/kubernetes.md)", pod.Name, err, c.ns)
		}
		msg := strings.TrimSpace(stderr)
		e := fmt.Errorf("exec %q in pod %s: %w: %s", cmd, pod.Name, err, msg)
		// The subcommand itself ran and failed: no other form will do better.
		if strings.HasPrefix(msg, signalCommand+":") || ctx.Err() != nil {
			return e
		}
		errs = append(errs, e)
	}
	return fmt.Errorf("image %s: %w\n%w", c.image, errNoSignalCommand, errors.Join(errs...))
}

// signalPrefixes are the command lines to try before "signal OP"; the
// caller holds execMu. A Command option is the node binary of the
// reference node, but another kind's program, which has no signal
// subcommand.
func (c *Cluster) signalPrefixes() [][]string {
	switch {
	case c.signalPrefix != nil:
		return [][]string{c.signalPrefix}
	case len(c.opts.Command) > 0 && c.program == "":
		return [][]string{c.opts.Command}
	default:
		return [][]string{{nodeimage.BinaryPath}, {nodeimage.BinaryPath, "node"}}
	}
}

// spdyExec runs cmd in the container through the pods/exec subresource.
func (c *Cluster) spdyExec(ctx context.Context, pod, container string, cmd []string) (string, string, error) {
	if c.config == nil {
		return "", "", errors.New("no REST config to exec with")
	}
	req := c.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(c.ns).Name(pod).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Container: container, Command: cmd, Stdout: true, Stderr: true,
	}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(c.config, http.MethodPost, req.URL())
	if err != nil {
		return "", "", err
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), err
}

// isForbidden reports an RBAC refusal. The SPDY upgrade does not always
// return an API status error, so the message is checked too.
func isForbidden(err error) bool {
	return apierrors.IsForbidden(err) || strings.Contains(err.Error(), "is forbidden")
}
