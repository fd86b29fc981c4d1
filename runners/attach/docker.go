package attach

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/nomosrun/nomosrun/runners/compose"
)

// docker controls an attached network's containers through the engine
// DOCKER_HOST names.
type docker struct {
	cli     client.APIClient
	stopFor time.Duration // graceful stop before SIGKILL
}

func newDocker(ctx context.Context) (*docker, error) {
	cli, err := compose.Docker(ctx)
	if err != nil {
		return nil, err
	}
	return &docker{cli: cli, stopFor: 10 * time.Second}, nil
}

// container returns the named node's container, or an error saying why
// the node cannot be controlled.
func (c *Cluster) container(name string) (string, error) {
	for _, n := range c.nodes {
		if n.Node.Name != name {
			continue
		}
		if n.Container == "" || c.docker == nil {
			return "", fmt.Errorf("%s: the endpoints file names no container for it, so an attached run cannot control it", name)
		}
		return n.Container, nil
	}
	return "", fmt.Errorf("no node %s", name)
}

func (c *Cluster) stopOptions() container.StopOptions {
	secs := int(c.docker.stopFor.Seconds())
	return container.StopOptions{Timeout: &secs}
}

// Restart implements runners.Restarter: a graceful stop, then a start.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	id, err := c.container(name)
	if err != nil {
		return err
	}
	if err := c.docker.cli.ContainerRestart(ctx, id, c.stopOptions()); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return nil
}

// Kill implements runners.Killer with SIGKILL.
func (c *Cluster) Kill(ctx context.Context, name string) error {
	id, err := c.container(name)
	if err != nil {
		return err
	}
	if err := c.docker.cli.ContainerKill(ctx, id, "KILL"); err != nil {
		return fmt.Errorf("kill %s: %w", name, err)
	}
	return nil
}

// Stop implements runners.StopStarter.
func (c *Cluster) Stop(ctx context.Context, name string) error {
	id, err := c.container(name)
	if err != nil {
		return err
	}
	if err := c.docker.cli.ContainerStop(ctx, id, c.stopOptions()); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}

// Start implements runners.StopStarter.
func (c *Cluster) Start(ctx context.Context, name string) error {
	id, err := c.container(name)
	if err != nil {
		return err
	}
	if err := c.docker.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// Pause implements runners.Pauser: the engine freezes the container.
func (c *Cluster) Pause(ctx context.Context, name string) error {
	id, err := c.container(name)
	if err != nil {
		return err
	}
	if err := c.docker.cli.ContainerPause(ctx, id); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	return nil
}

// Resume implements runners.Pauser.
func (c *Cluster) Resume(ctx context.Context, name string) error {
	id, err := c.container(name)
	if err != nil {
		return err
	}
	if err := c.docker.cli.ContainerUnpause(ctx, id); err != nil {
		return fmt.Errorf("resume %s: %w", name, err)
	}
	return nil
}

// CollectLogs implements runners.LogCollector: each container's output
// into dir/<node>.log.
func (c *Cluster) CollectLogs(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for _, n := range c.nodes {
		id, err := c.container(n.Node.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := compose.CopyLogs(ctx, c.docker.cli, id, filepath.Join(dir, n.Node.Name+".log")); err != nil {
			errs = append(errs, fmt.Errorf("logs of %s: %w", n.Node.Name, err))
		}
	}
	return errors.Join(errs...)
}

var _ io.Closer = (*docker)(nil)

// Close closes the engine connection.
func (d *docker) Close() error { return d.cli.Close() }
