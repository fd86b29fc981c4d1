package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// Restart stops a node gracefully and starts it again with the same config
// and data volume, returning once it answers on its API. The container
// comes back in a new network namespace: the kernel faults in force are
// applied there again first.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	c.exits.expect(name)
	c.Faulter.Leave(name)
	if err := c.cli.ContainerRestart(ctx, n.container, c.stopOptions()); err != nil {
		c.exits.take(name)
		return fmt.Errorf("restart %s: %w", name, err)
	}
	if err := c.rejoin(ctx, n); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return c.waitReady(ctx, n)
}

// Kill sends SIGKILL to a node's container. Start brings it back.
func (c *Cluster) Kill(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	c.exits.expect(name)
	c.Faulter.Leave(name)
	if err := c.cli.ContainerKill(ctx, n.container, "SIGKILL"); err != nil {
		c.exits.take(name)
		return fmt.Errorf("kill %s: %w", name, err)
	}
	return c.waitState(ctx, n, false)
}

// Stop stops a node's container gracefully (SIGTERM, then SIGKILL after the
// stop timeout).
func (c *Cluster) Stop(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	c.exits.expect(name)
	c.Faulter.Leave(name)
	if err := c.cli.ContainerStop(ctx, n.container, c.stopOptions()); err != nil {
		c.exits.take(name)
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}

// Start starts a stopped or killed node's container and returns once the
// node answers on its API, with the kernel faults in force applied again in
// its new network namespace.
func (c *Cluster) Start(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.cli.ContainerStart(ctx, n.container, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := c.rejoin(ctx, n); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return c.waitReady(ctx, n)
}

// Pause freezes every process of a node's container (cgroup freezer).
func (c *Cluster) Pause(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.cli.ContainerPause(ctx, n.container); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	return nil
}

// Resume thaws a paused node.
func (c *Cluster) Resume(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.cli.ContainerUnpause(ctx, n.container); err != nil {
		return fmt.Errorf("resume %s: %w", name, err)
	}
	return nil
}

// Isolate disconnects a node's container from the peer network: a real
// network cut. Its API stays reachable through the other network.
func (c *Cluster) Isolate(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.cli.NetworkDisconnect(ctx, n.p2pNetwork, n.container, true); err != nil {
		return fmt.Errorf("isolate %s: disconnect from the peer network: %w", name, err)
	}
	return nil
}

// Reconnect attaches an isolated node to the peer network again, under its
// peer alias and at its fixed address.
func (c *Cluster) Reconnect(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	ep := &network.EndpointSettings{Aliases: []string{p2pAlias(name), name}}
	if n.p2pAddr.IsValid() {
		ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: n.p2pAddr.String()}
	}
	err = c.cli.NetworkConnect(ctx, n.p2pNetwork, n.container, ep)
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("reconnect %s to the peer network: %w", name, err)
	}
	// The engine may hand out another address: kernel faults in force must
	// name the new one.
	if err := c.rejoin(ctx, n); err != nil {
		return fmt.Errorf("reconnect %s: %w", name, err)
	}
	return nil
}

// CollectLogs writes every container's output to dir/<node>.log.
func (c *Cluster) CollectLogs(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for _, n := range c.nodes {
		if err := c.copyLogs(ctx, n, filepath.Join(dir, n.name+".log")); err != nil {
			errs = append(errs, fmt.Errorf("logs of %s: %w", n.name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) copyLogs(ctx context.Context, n *node, path string) error {
	return CopyLogs(ctx, c.cli, n.container, path)
}

// CopyLogs writes a container's whole output to the file at path.
func CopyLogs(ctx context.Context, cli client.APIClient, id, path string) error {
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	// Without a TTY the engine multiplexes stdout and stderr; both go to
	// the one file in order.
	_, err = stdcopy.StdCopy(f, f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (c *Cluster) stopOptions() container.StopOptions {
	secs := int(c.opts.StopTimeout.Seconds())
	return container.StopOptions{Timeout: &secs}
}

// waitReady waits until the node answers its kind's client (the reference
// node's GET /cryptarchia/info), failing early with its last log lines if
// its container exits.
func (c *Cluster) waitReady(ctx context.Context, n *node) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	client := c.kind.Client(n.api, n.test)
	for {
		probe, cancelProbe := context.WithTimeout(ctx, time.Second)
		_, err := client.Info(probe)
		cancelProbe()
		if err == nil {
			return nil
		}
		info, ierr := c.cli.ContainerInspect(ctx, n.container)
		if ierr == nil && !info.State.Running && !info.State.Restarting {
			return fmt.Errorf("%s exited with status %d while starting%s", n.name, info.State.ExitCode, c.tail(ctx, n))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer on %s within %s: %w", n.name, n.api, c.opts.StartTimeout, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitState waits until the container is (not) running.
func (c *Cluster) waitState(ctx context.Context, n *node, running bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StopTimeout)
	defer cancel()
	for {
		info, err := c.cli.ContainerInspect(ctx, n.container)
		if err != nil {
			return fmt.Errorf("inspect %s: %w", n.name, err)
		}
		if info.State.Running == running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: container still running=%v: %w", n.name, info.State.Running, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tail returns the last lines of a node's output, for error messages.
func (c *Cluster) tail(ctx context.Context, n *node) string {
	rc, err := c.cli.ContainerLogs(ctx, n.container, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "10"})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil || buf.Len() == 0 {
		return ""
	}
	return "; last log lines:\n" + strings.TrimRight(buf.String(), "\n")
}
