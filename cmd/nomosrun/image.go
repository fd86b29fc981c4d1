package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners/compose"
)

// The running executable starts the reference node with "node --config
// FILE", so a statically linked nomosrun can be the image's node binary.
func init() { nodeimage.SetSelfNode("node") }

var imageCmd = &command{
	name:        "image",
	usage:       "build [--tag T] | save [--tag T] -o FILE",
	subcommands: []string{"build", "save"},
	short:       "build the node image of the compose and k8s runners (FROM scratch, nothing pulled)",
	flags:       imageFlags,
}

func imageFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	tag := fs.String("tag", nodeimage.DefaultTag(), "image tag: $NOMOS_TESTNET_IMAGE if set, else the one versions.env names")
	var out string
	if sub == "save" {
		fs.StringVar(&out, "o", "", "write the docker-archive tarball to `FILE`")
	}
	return func(ctx context.Context, pos []string) error {
		return image(ctx, a, c, sub, *tag, out, pos)
	}
}

func image(ctx context.Context, a *app, c *command, sub, tag, out string, pos []string) error {
	if len(pos) != 0 {
		return usageError(fmt.Errorf("image %s: unexpected argument %q; usage: nomosrun image %s", sub, pos[0], c.usage))
	}
	t0 := time.Now()
	if sub == "save" {
		if out == "" {
			return usageError(errors.New("image save: -o FILE is required"))
		}
		if err := saveImage(ctx, out, tag); err != nil {
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
	if err := compose.LoadImage(ctx, cli, tag); err != nil {
		return withCode(ExitInfrastructure, err)
	}
	fmt.Fprintf(a.stdout, "built image %s in %s\n", tag, time.Since(t0).Round(time.Millisecond))
	return nil
}

// saveImage writes the archive next to out and renames it, so a failed
// build never leaves a truncated file at out.
func saveImage(ctx context.Context, out, tag string) error {
	tmp := out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("image save: %w", err)
	}
	err = nodeimage.Write(ctx, f, tag)
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
