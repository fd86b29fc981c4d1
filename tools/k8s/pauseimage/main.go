// Command pauseimage writes the test cluster's sandbox ("pause") image as a
// docker-archive tarball, for `ctr images import`. The image is FROM scratch:
// its only file is this same program, which, started as /pause, holds the
// pod's namespaces, reaps orphans and exits on SIGINT or SIGTERM.
//
//	go run ./tools/k8s/pauseimage -o pause.tar [-tag registry.k8s.io/pause:3.10.1]
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// defaultTag is containerd's default sandbox_image, so no config change is needed.
const defaultTag = "registry.k8s.io/pause:3.10.1"

func main() {
	if filepath.Base(os.Args[0]) == "pause" {
		pause()
		return
	}
	out := flag.String("o", "", "output tarball (required)")
	tag := flag.String("tag", defaultTag, "image reference")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: pauseimage -o FILE [-tag REF]")
		os.Exit(2)
	}
	if err := write(*out, *tag); err != nil {
		fmt.Fprintln(os.Stderr, "pauseimage:", err)
		os.Exit(1)
	}
}

// pause is the sandbox process: it waits for a stop signal and reaps zombies.
func pause() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for {
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(-1, &ws, 0, nil); err != nil {
				select {}
			}
		}
	}()
	<-c
}

// write builds a static copy of this program and packs it as /pause.
func write(out, ref string) error {
	dir, err := os.MkdirTemp("", "pauseimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pause")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./tools/k8s/pauseimage")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the pause binary (run from the module root): %w", err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Entrypoint: []string{"/pause"}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image reference: %w", err)
	}
	return tarball.WriteToFile(out, tag, img)
}
