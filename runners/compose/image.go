package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
)

// Docker connects to the engine named by the usual DOCKER_HOST variables,
// negotiating the API version (Debian's engine speaks 1.41), and checks it
// answers.
func Docker(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("cannot reach the Docker engine at %s (is dockerd running and may this user use it?): %w", cli.DaemonHost(), err)
	}
	return cli, nil
}

// LoadImage builds the node image of kind (see package nodeimage) and loads
// it into the engine under tag, replacing an older image of that tag.
func LoadImage(ctx context.Context, cli client.APIClient, tag string, kind nodekind.Kind) error {
	foreign, err := ForeignProgram(kind)
	if err != nil {
		return err
	}
	old, _ := cli.ImageInspect(ctx, tag)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(nodeimage.Write(ctx, pw, tag, foreign)) }()
	resp, err := cli.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("load image %s into Docker: %w", tag, err)
	}
	defer resp.Body.Close()
	// The engine streams JSON messages; a failure is one with "error" set.
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("load image %s into Docker: %w", tag, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("load image %s into Docker: %s", tag, msg.Error)
		}
	}
	now, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		return fmt.Errorf("load image %s into Docker: not there after loading: %w", tag, err)
	}
	// The image the tag named before is now untagged: remove it unless a
	// container or another tag still uses it (the engine refuses then).
	if old.ID != "" && old.ID != now.ID && len(old.RepoTags) == 1 {
		_, _ = cli.ImageRemove(ctx, old.ID, image.RemoveOptions{PruneChildren: true})
	}
	return nil
}

// ForeignProgram is what the image of kind holds besides the reference
// node: nil for the reference node itself.
func ForeignProgram(kind nodekind.Kind) (*nodeimage.Foreign, error) {
	find := kind.Program().ImageBinary
	if find == nil {
		return nil, nil
	}
	path, version, err := find()
	if err != nil {
		return nil, err
	}
	return &nodeimage.Foreign{Name: kind.Name(), Path: path, Version: version}, nil
}

// EnsureImage checks that tag is in the engine. The kind's image of the
// tag pinned in versions.env is built and loaded when missing; another
// missing tag (one chosen with NOMOS_TESTNET_IMAGE or topology(image=...))
// is an error naming the command that builds it: nothing is ever pulled.
func EnsureImage(ctx context.Context, cli client.APIClient, tag string, kind nodekind.Kind, log *slog.Logger) error {
	_, err := cli.ImageInspect(ctx, tag)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", tag, err)
	}
	pinned := kind.Program().Image
	if kind.Name() == nodekind.Default {
		pinned = nodeimage.PinnedTag()
	}
	build := "nomosrun image build"
	if kind.Name() != nodekind.Default {
		build += " --node " + kind.Name()
	}
	if tag != pinned {
		return fmt.Errorf("image %s is not in the Docker engine: build it with '%s --tag %s' (nothing is pulled)", tag, build, shellQuote(tag))
	}
	if log != nil {
		log.Info("node image not found; building it", "image", tag)
	}
	if err := LoadImage(ctx, cli, tag, kind); err != nil {
		return fmt.Errorf("image %s is not in the Docker engine and building it failed (build it with '%s'): %w", tag, build, err)
	}
	return nil
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
