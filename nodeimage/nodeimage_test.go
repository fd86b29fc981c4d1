package nodeimage

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	kzgrstestparams "github.com/nomosrun/nomosrun/assets/kzgrs_test_params"
	"github.com/nomosrun/nomosrun/internal/env"
)

// readBack parses a docker-archive tarball written by Write.
func readBack(t *testing.T, archive []byte, tag string) v1.Image {
	t.Helper()
	img, err := tarball.Image(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(archive)), nil
	}, nil)
	if err != nil {
		t.Fatalf("read the archive back: %v", err)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(archive)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || !slices.Contains(m[0].RepoTags, tag) {
		t.Fatalf("archive manifest tags = %+v, want [%s]", m, tag)
	}
	return img
}

func TestImageLayoutAndConfig(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(exe, []byte("pretend node binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := Binary{Path: exe, Args: []string{"node"}, Source: "test"}
	var a, b bytes.Buffer
	if err := WriteWith(context.Background(), &a, "example.test/node:1", bin, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteWith(context.Background(), &b, "example.test/node:1", bin, nil); err != nil {
		t.Fatal(err)
	}
	img := readBack(t, a.Bytes(), "example.test/node:1")
	dA, _ := img.Digest()
	dB, _ := readBack(t, b.Bytes(), "example.test/node:1").Digest()
	if dA != dB {
		t.Errorf("two builds of the same binary differ: %s vs %s", dA, dB)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Config.Entrypoint; !slices.Equal(got, []string{BinaryPath, "node"}) {
		t.Errorf("entrypoint = %q", got)
	}
	if got := cf.Config.Cmd; !slices.Equal(got, []string{"--config", ConfigPath}) {
		t.Errorf("cmd = %q", got)
	}
	if !slices.Contains(cf.Config.Env, "NOMOS_KZGRS_PARAMS_PATH=/kzgrs_test_params/kzgrs_test_params") {
		t.Errorf("env = %q, want the container params path", cf.Config.Env)
	}
	if cf.OS != "linux" || cf.Architecture == "" || cf.Config.Labels[LabelImage] != "node" {
		t.Errorf("os/arch/labels = %s/%s/%v", cf.OS, cf.Architecture, cf.Config.Labels)
	}

	files := map[string][]byte{}
	modes := map[string]int64{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		n := strings.TrimSuffix(h.Name, "/")
		files[n], modes[n] = body, h.Mode
	}
	if got := string(files["usr/local/bin/nomos-node"]); got != "pretend node binary" {
		t.Errorf("binary in image = %q", got)
	}
	if modes["usr/local/bin/nomos-node"]&0o111 == 0 {
		t.Errorf("binary is not executable: mode %o", modes["usr/local/bin/nomos-node"])
	}
	if !bytes.Equal(files["kzgrs_test_params/kzgrs_test_params"], kzgrstestparams.File) {
		t.Errorf("params in image differ from the embedded ones (%d bytes)", len(files["kzgrs_test_params/kzgrs_test_params"]))
	}
	for _, dir := range []string{"config", "data", "tmp"} {
		if _, ok := files[dir]; !ok {
			t.Errorf("image has no /%s", dir)
		}
	}
	if modes["tmp"]&0o1777 != 0o1777 {
		t.Errorf("/tmp mode = %o, want 1777", modes["tmp"])
	}
}

func TestWriteRejectsBadTag(t *testing.T) {
	err := WriteWith(context.Background(), io.Discard, "Not A Tag", Binary{Path: "/nonexistent"}, nil)
	if err == nil || !strings.Contains(err.Error(), `image tag "Not A Tag"`) {
		t.Fatalf("err = %v, want one naming the tag", err)
	}
}

func TestDefaultTag(t *testing.T) {
	t.Setenv(env.Image.Name, "")
	if got := DefaultTag(); got != "nomosrun/simnode:0.1.0" {
		t.Errorf("DefaultTag() = %q, want the versions.env pin", got)
	}
	t.Setenv(env.Image.Name, "mine/node:dev")
	if got := DefaultTag(); got != "mine/node:dev" {
		t.Errorf("DefaultTag() = %q with %s set", got, env.Image.Name)
	}
}

func TestFindBinaryRejectsDynamicNodeBin(t *testing.T) {
	dyn := "/bin/sh"
	if static, err := isStatic(dyn); err != nil || static {
		t.Skipf("%s is not a dynamic executable here (static=%v, err=%v)", dyn, static, err)
	}
	t.Setenv(env.NodeBin.Name, dyn)
	_, err := FindBinary(context.Background())
	if err == nil || !strings.Contains(err.Error(), "dynamically linked") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("err = %v, want one saying how to build a static binary", err)
	}
	notELF := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	t.Setenv(env.NodeBin.Name, notELF)
	if _, err := FindBinary(context.Background()); err == nil || !strings.Contains(err.Error(), "not a Linux executable") {
		t.Fatalf("err = %v for a script", err)
	}
}

func TestFindBinaryBuildsStaticFromSource(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node")
	}
	t.Setenv(env.NodeBin.Name, "")
	bin := staticBinary(t)
	static, err := isStatic(bin.Path)
	if err != nil || !static {
		t.Fatalf("%s: static=%v err=%v", bin.Path, static, err)
	}
	if bin.Source != "source" {
		t.Errorf("source = %q", bin.Source)
	}
	// A second call finds the cached binary.
	again, err := FindBinary(context.Background())
	if err != nil || again.Path != bin.Path {
		t.Fatalf("second FindBinary = %+v, %v; want the cached %s", again, err, bin.Path)
	}
	// A static NOMOS_NODE_BIN is taken as is.
	t.Setenv(env.NodeBin.Name, bin.Path)
	if b, err := FindBinary(context.Background()); err != nil || b.Source != env.NodeBin.Name || b.Path != bin.Path {
		t.Fatalf("FindBinary with %s = %+v, %v", env.NodeBin.Name, b, err)
	}
}

// staticBinary returns the node binary built from this checkout.
func staticBinary(t *testing.T) Binary {
	t.Helper()
	bin, err := FindBinary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestPruneCacheKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for i, name := range []string{"simnode-a", "simnode-b", "simnode-c", "simnode-d", "simnode-e.tmp"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, nil, 0o755)
		os.Chtimes(p, now, now.Add(time.Duration(i)*time.Minute))
	}
	pruneCache(dir, 2)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "simnode-c simnode-d simnode-e.tmp" {
		t.Fatalf("left %v, want the two newest and the build in progress", left)
	}
}
