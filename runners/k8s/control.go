package k8s

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func (c *Cluster) node(name string) (*node, error) {
	for _, n := range c.nodes {
		if n.name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no node %q", name)
}

// Restart deletes the node's pod gracefully and waits until its replacement
// (same config, same data volume) is ready.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	start := time.Now()
	pods, err := c.podsOf(ctx, name)
	if err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	c.Faulter.Leave(name)
	skip := map[string]string{}
	for _, p := range pods {
		skip[name] = string(p.UID)
		err := c.client.CoreV1().Pods(c.ns).Delete(ctx, p.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("restart %s: delete pod %s: %w", name, p.Name, err)
		}
	}
	if err := c.waitReadyExcept(ctx, []string{name}, skip, c.opts.DeployTimeout); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	if err := n.fwd.connect(ctx); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	if err := c.rejoin(ctx, n); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	c.log.Info("node restarted", "node", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Kill scales the node to zero and deletes its pod with no grace period: the
// process gets SIGKILL. Start brings it back.
func (c *Cluster) Kill(ctx context.Context, name string) error {
	if _, err := c.node(name); err != nil {
		return err
	}
	c.Faulter.Leave(name)
	if err := c.scale(ctx, name, 0); err != nil {
		return fmt.Errorf("kill %s: %w", name, err)
	}
	zero := int64(0)
	pods, err := c.podsOf(ctx, name)
	if err != nil {
		return fmt.Errorf("kill %s: %w", name, err)
	}
	for _, p := range pods {
		// The ReplicaSet may have deleted it already after the scale-down.
		err := c.client.CoreV1().Pods(c.ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("kill %s: delete pod %s: %w", name, p.Name, err)
		}
	}
	c.log.Info("node killed", "node", name)
	return c.waitNoPods(ctx, name, c.opts.DeployTimeout)
}

// Stop scales the node to zero and waits until its pod has stopped gracefully.
func (c *Cluster) Stop(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	c.Faulter.Leave(name)
	if err := c.scale(ctx, name, 0); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	if err := c.waitNoPods(ctx, name, c.opts.DeployTimeout); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	n.fwd.close()
	n.agentFwd.close()
	c.log.Info("node stopped", "node", name)
	return nil
}

// Start scales a stopped or killed node back to one pod and waits until it is ready.
func (c *Cluster) Start(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, name, 1); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := c.waitReady(ctx, []string{name}, c.opts.DeployTimeout); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := n.fwd.connect(ctx); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := c.rejoin(ctx, n); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.log.Info("node started", "node", name)
	return nil
}

func (c *Cluster) scale(ctx context.Context, name string, replicas int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := c.client.AppsV1().Deployments(c.ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// CollectLogs writes each node's pod log to dir/<node>.log: the logs of every
// pod the node has now, and of the previous container of a pod that restarted.
func (c *Cluster) CollectLogs(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range c.nodes {
		f, err := os.Create(filepath.Join(dir, n.name+".log"))
		if err != nil {
			return err
		}
		err = c.writeLogs(ctx, n.name, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("logs of %s: %w", n.name, err)
		}
	}
	return nil
}

func (c *Cluster) writeLogs(ctx context.Context, name string, f *os.File) error {
	pods, err := c.podsOf(ctx, name)
	if err != nil {
		return err
	}
	for _, p := range pods {
		restarted := false
		for _, cs := range p.Status.ContainerStatuses {
			restarted = restarted || (cs.Name == containerName && cs.RestartCount > 0)
		}
		if restarted {
			if b, err := c.client.CoreV1().Pods(c.ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: containerName, Previous: true}).DoRaw(ctx); err == nil {
				f.Write(b)
			}
		}
		b, err := c.client.CoreV1().Pods(c.ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: containerName}).DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("pod %s: %w", p.Name, err)
		}
		if _, err := f.Write(b); err != nil {
			return err
		}
	}
	return nil
}
