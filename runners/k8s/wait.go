package k8s

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
)

// nodeEnv is the environment of every node container: the passthrough
// variables that are set, POL_PROOF_DEV_MODE=true unless given, and
// LIBP2P_TCP_REUSEPORT=false. With reuseport, libp2p dials from its listen
// port; two nodes dialling each other's Service ClusterIP at once then make
// the same connection-tracking tuple after DNAT, and both dials fail for as
// long as the stale entry lives. Dials from ephemeral ports do not clash.
func nodeEnv() []EnvVar {
	out := []EnvVar{{"LIBP2P_TCP_REUSEPORT", "false"}}
	for _, k := range passthroughEnv {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, EnvVar{k, v})
		}
	}
	if _, ok := env.DevMode.Lookup(); !ok {
		out = append(out, EnvVar{env.DevMode.Name, env.DevMode.Default})
	}
	// As in the Rust framework, NOMOS_LOG_DIR puts log files inside each pod.
	if dir := env.LogDir.Get(); dir != "" {
		out = append(out, EnvVar{env.LogDir.Name, dir})
	}
	return out
}

// imageErrors are the waiting reasons that mean the image cannot be had.
var imageErrors = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "ErrImageNeverPull": true, "InvalidImageName": true,
}

// podsOf lists the pods of one node (a Deployment may briefly have two).
func (c *Cluster) podsOf(ctx context.Context, name string) ([]corev1.Pod, error) {
	l, err := c.client.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{
		LabelSelector: fmt.Sprintf("%s=%s,%s=%s", labelRun, c.runID, labelNode, name),
	})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readyPod returns the node's ready pod, if any, other than the one with
// uid skip. A pod that cannot get its image, or that admission refuses to
// create, is an error at once.
func (c *Cluster) readyPod(ctx context.Context, name string, skip string) (*corev1.Pod, error) {
	pods, err := c.podsOf(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		if msg := c.replicaFailure(ctx, name); msg != "" {
			return nil, fmt.Errorf("the pod of %s cannot be created: %s%s", name, msg, admissionHint(msg))
		}
	}
	for i := range pods {
		p := &pods[i]
		// An init container pulls the image first.
		for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
			if w := cs.State.Waiting; w != nil && imageErrors[w.Reason] {
				return nil, fmt.Errorf("pod %s cannot get image %s (%s: %s); %s", p.Name, c.image, w.Reason, w.Message, c.imageHint())
			}
		}
		if string(p.UID) != skip && podReady(p) {
			return p, nil
		}
	}
	return nil, nil
}

// imageHint says how to get the nodes' image into the cluster.
func (c *Cluster) imageHint() string {
	save, name := "nomosrun image save -o node.tar", "set "+env.Image.Name
	if c.kind != nodekind.Default {
		save, name = "nomosrun image save --node "+c.kind+" -o node.tar", "name it with topology(image=...)"
	}
	return "the cluster's nodes must have it: write it with `" + save + "` and load it into each node " +
		"(`ctr -n k8s.io images import node.tar`, `kind load image-archive node.tar`), " +
		"or push it to a registry the cluster can pull from and " + name
}

// waitReady waits until every named node has a ready pod. On timeout the
// error holds each unready pod's diagnostics.
func (c *Cluster) waitReady(ctx context.Context, names []string, timeout time.Duration) error {
	return c.waitReadyExcept(ctx, names, nil, timeout)
}

// waitReadyExcept is waitReady where skip[name] is a pod UID that does not count.
func (c *Cluster) waitReadyExcept(ctx context.Context, names []string, skip map[string]string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pending := append([]string(nil), names...)
	for {
		var still []string
		for _, n := range pending {
			p, err := c.readyPod(ctx, n, skip[n])
			if err != nil {
				return err
			}
			if p == nil {
				still = append(still, n)
			}
		}
		if pending = still; len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %s\n%s", timeout, strings.Join(pending, ", "),
				c.diagnose(context.WithoutCancel(ctx), pending))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.opts.Poll):
		}
	}
}

// waitNoPods waits until the node has no pod left (after scaling to zero).
func (c *Cluster) waitNoPods(ctx context.Context, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pods, err := c.podsOf(ctx, name)
		if err != nil {
			return err
		}
		if len(pods) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: pod %s still there after %v", name, pods[0].Name, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.opts.Poll):
		}
	}
}

// diagnose describes why the nodes' pods are not ready: phase, container
// states, recent events and the last log lines.
func (c *Cluster) diagnose(ctx context.Context, names []string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var b strings.Builder
	for _, n := range names {
		pods, err := c.podsOf(ctx, n)
		if err != nil {
			fmt.Fprintf(&b, "%s: cannot list pods: %v\n", n, err)
			continue
		}
		if len(pods) == 0 {
			fmt.Fprintf(&b, "%s: no pod (see: kubectl -n %s describe deployment %s)\n", n, c.ns, n)
		}
		for _, p := range pods {
			fmt.Fprintf(&b, "%s: pod %s phase %s", n, p.Name, p.Status.Phase)
			failedInit := ""
			for _, cs := range p.Status.InitContainerStatuses {
				if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
					fmt.Fprintf(&b, ", init container %s failed: %s (exit %d)", cs.Name, t.Reason, t.ExitCode)
					failedInit = cs.Name
				} else if w := cs.State.Waiting; w != nil {
					fmt.Fprintf(&b, ", init container %s waiting: %s %s", cs.Name, w.Reason, w.Message)
				}
				if cs.RestartCount > 0 {
					fmt.Fprintf(&b, ", %d restarts", cs.RestartCount)
					failedInit = cs.Name
				}
			}
			for _, cs := range p.Status.ContainerStatuses {
				switch {
				case cs.State.Waiting != nil:
					fmt.Fprintf(&b, ", waiting: %s %s", cs.State.Waiting.Reason, cs.State.Waiting.Message)
				case cs.State.Terminated != nil:
					fmt.Fprintf(&b, ", terminated: %s (exit %d)", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
				}
				if cs.RestartCount > 0 {
					fmt.Fprintf(&b, ", %d restarts", cs.RestartCount)
				}
			}
			b.WriteString("\n")
			b.WriteString(c.events(ctx, p.Name))
			if failedInit != "" {
				if tail := c.logTail(ctx, p.Name, failedInit, 10); tail != "" {
					fmt.Fprintf(&b, "  last log lines of %s:\n%s", failedInit, indentLines(tail, "    "))
				}
			}
			if tail := c.logTail(ctx, p.Name, containerName, 10); tail != "" {
				fmt.Fprintf(&b, "  last log lines:\n%s", indentLines(tail, "    "))
			}
		}
	}
	return b.String()
}

// events returns the last events of a pod, one per line.
func (c *Cluster) events(ctx context.Context, pod string) string {
	l, err := c.client.CoreV1().Events(c.ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String(),
	})
	if err != nil || len(l.Items) == 0 {
		return ""
	}
	ev := l.Items
	sort.Slice(ev, func(i, j int) bool { return ev[i].LastTimestamp.Before(&ev[j].LastTimestamp) })
	if len(ev) > 5 {
		ev = ev[len(ev)-5:]
	}
	var b strings.Builder
	for _, e := range ev {
		fmt.Fprintf(&b, "  event %s %s: %s\n", e.Type, e.Reason, e.Message)
	}
	return b.String()
}

// logTail returns the last lines of a container's log, or "".
func (c *Cluster) logTail(ctx context.Context, pod, container string, lines int64) string {
	b, err := c.client.CoreV1().Pods(c.ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &lines}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\n")
}

func indentLines(s, pad string) string {
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad) + "\n"
}
