package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/nomosrun/nomosrun/internal/owner"
)

// Object is a container, network or volume of a run.
type Object struct {
	Kind  string // "container", "network" or "volume"
	Name  string
	ID    string
	Run   string // the io.nomosrun.run label
	Owner string // the io.nomosrun.owner label: host:pid of the nomosrun that made it
}

// live reports whether the nomosrun process that made o is still running on
// this machine. A preserved stack's process has exited, so it is not live.
func (o Object) live() bool { return owner.Live(o.Owner) }

// String is "kind name (run id)".
func (o Object) String() string { return fmt.Sprintf("%s %s (run %s)", o.Kind, o.Name, o.Run) }

// runFilter matches the objects of run, or of every run if run is "".
func runFilter(run string) filters.Args {
	if run == "" {
		return filters.NewArgs(filters.Arg("label", LabelRun))
	}
	return filters.NewArgs(filters.Arg("label", LabelRun+"="+run))
}

// list returns the containers, networks and volumes labelled with run (any
// run if run is ""), containers first: the order they must be removed in.
func list(ctx context.Context, cli client.APIClient, run string) ([]Object, error) {
	f := runFilter(run)
	var out []Object
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs {
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Object{Kind: "container", Name: name, ID: c.ID, Run: c.Labels[LabelRun], Owner: c.Labels[LabelOwner]})
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	for _, n := range ns {
		out = append(out, Object{Kind: "network", Name: n.Name, ID: n.ID, Run: n.Labels[LabelRun], Owner: n.Labels[LabelOwner]})
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	for _, v := range vs.Volumes {
		out = append(out, Object{Kind: "volume", Name: v.Name, ID: v.Name, Run: v.Labels[LabelRun], Owner: v.Labels[LabelOwner]})
	}
	return out, nil
}

// Clean removes every container, network and volume labelled
// io.nomosrun.run=run and returns what it removed. With run "" it cleans
// every run except those whose nomosrun process is still running on this
// machine, which it returns as skipped. Nothing without the label is
// touched.
func Clean(ctx context.Context, cli client.APIClient, run string) (removed, skipped []Object, err error) {
	objs, err := list(ctx, cli, run)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, o := range objs {
		if run == "" && o.live() {
			skipped = append(skipped, o)
			continue
		}
		switch o.Kind {
		case "container":
			err = cli.ContainerRemove(ctx, o.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		case "network":
			err = cli.NetworkRemove(ctx, o.ID)
		case "volume":
			err = cli.VolumeRemove(ctx, o.ID, true)
		}
		switch {
		case err == nil:
			removed = append(removed, o)
		case cerrdefs.IsNotFound(err):
			// Gone meanwhile (Compose or an earlier call removed it).
		default:
			errs = append(errs, fmt.Errorf("remove %s: %w", o, err))
		}
	}
	return removed, skipped, errors.Join(errs...)
}
