package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeimage"
)

// TestLoadImageReplacesTheOldImage loads two different node binaries under
// one tag: the second load leaves no dangling copy of the first.
func TestLoadImageReplacesTheOldImage(t *testing.T) {
	realRunner(t)
	ctx := context.Background()
	cli, err := Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	t.Setenv(env.NodeBin.Name, "")
	bin, err := nodeimage.FindBinary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(bin.Path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tag := "nomosrun-test/replace:0"
	t.Cleanup(func() { cli.ImageRemove(ctx, tag, imageRemoveAll) })
	var ids []string
	for i, extra := range []string{"", "\x00"} {
		p := filepath.Join(dir, "node"+string(rune('a'+i)))
		if err := os.WriteFile(p, append(exe, extra...), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv(env.NodeBin.Name, p)
		if err := LoadImage(ctx, cli, tag, referenceKind); err != nil {
			t.Fatal(err)
		}
		info, err := cli.ImageInspect(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, info.ID)
	}
	if ids[0] == ids[1] {
		t.Fatalf("two different binaries gave one image %s", ids[0])
	}
	if _, err := cli.ImageInspect(ctx, ids[0]); !cerrdefs.IsNotFound(err) {
		t.Fatalf("the replaced image %s is still there (err %v)", ids[0], err)
	}
}

// TestEnsureImageNamesTheBuildCommand: a missing image that is not the
// pinned one is not built or pulled; the error says how to build it.
func TestEnsureImageNamesTheBuildCommand(t *testing.T) {
	realRunner(t)
	ctx := context.Background()
	cli, err := Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	err = EnsureImage(ctx, cli, "nomosrun-test/absent:0", referenceKind, nil)
	if err == nil || !strings.Contains(err.Error(), "build it with 'nomosrun image build --tag nomosrun-test/absent:0'") {
		t.Fatalf("err = %v", err)
	}
}

var imageRemoveAll = image.RemoveOptions{Force: true, PruneChildren: true}
