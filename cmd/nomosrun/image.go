package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners/compose"
)

// The running executable starts the reference node with "node --config
// FILE", so a statically linked nomosrun can be the image's node binary.
func init() { nodeimage.SetSelfNode("node") }

var imageCmd = &command{
	name:        "image",
	usage:       "build [--node KIND] [--tag T] | save [--node KIND] [--tag T] -o FILE",
	subcommands: []string{"build", "save"},
	short:       "build the node image of a node kind for the compose and k8s runners (FROM scratch, nothing pulled)",
	flags:       imageFlags,
}

func imageFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	node := fs.String("node", nodekind.Default, "the node kind: "+strings.Join(nodekind.Names(), ", "))
	tag := fs.String("tag", "", "image tag (default: for the reference node $NOMOS_TESTNET_IMAGE if set, else the one versions.env names; for another kind, its pinned image)")
	var out string
	if sub == "save" {
		fs.StringVar(&out, "o", "", "write the docker-archive tarball to `FILE`")
	}
	return func(ctx context.Context, pos []string) error {
		return image(ctx, a, c, sub, *node, *tag, out, pos)
	}
}

func image(ctx context.Context, a *app, c *command, sub, node, tag, out string, pos []string) error {
	if len(pos) != 0 {
		return usageError(fmt.Errorf("image %s: unexpected argument %q; usage: nomosrun image %s", sub, pos[0], c.usage))
	}
	kind, err := nodekind.Get(node)
	if err != nil {
		return usageError(fmt.Errorf("image %s: %w", sub, err))
	}
	if tag == "" {
		tag = kind.Program().Image
	}
	t0 := time.Now()
	if sub == "save" {
		if out == "" {
			return usageError(errors.New("image save: -o FILE is required"))
		}
		if err := saveImage(ctx, out, tag, kind); err != nil {
			return withCode(ExitInfrastructure, err)
		}
		fmt.Fprintf(a.stdout, "wrote image %s to %s in %s (load it with: docker load -i %s, or ctr -n k8s.io images import %s)\n",
			tag, out, time.Since(t0).Round(time.Millisecond), out, out)
		return nil
	}
	cli, err := compose.Docker(ctx)
	if err != nil {
		return withCode(ExitInfrastructure, err)
	}
	defer cli.Close()
	if err := compose.LoadImage(ctx, cli, tag, kind); err != nil {
		return withCode(ExitInfrastructure, err)
	}
	fmt.Fprintf(a.stdout, "built image %s in %s\n", tag, time.Since(t0).Round(time.Millisecond))
	return nil
}

// saveImage writes the archive next to out and renames it, so a failed
// build never leaves a truncated file at out.
func saveImage(ctx context.Context, out, tag string, kind nodekind.Kind) error {
	foreign, err := compose.ForeignProgram(kind)
	if err != nil {
		return fmt.Errorf("image save: %w", err)
	}
	tmp := out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("image save: %w", err)
	}
	err = nodeimage.Write(ctx, f, tag, foreign)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("image save: %w", err)
	}
	return nil
}
