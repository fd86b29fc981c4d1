// Package nodeimage builds the node image of the Compose and Kubernetes
// runners without pulling anything: an image FROM scratch holding a static
// node binary and the KZG test parameters, written as a docker-archive
// tarball that both `docker load` and `ctr images import` accept.
//
// Layout of the image:
//
//	/usr/local/bin/nomos-node               the static node binary
//	/kzgrs_test_params/kzgrs_test_params    KZG parameters (NOMOS_KZGRS_PARAMS_PATH)
//	/config/node.yaml                       the config path the entrypoint reads (mounted by the runner)
//	/data                                   the working directory (node data)
//	/tmp                                    scratch space
//
// The entrypoint starts the node and the default command is
// "--config /config/node.yaml", so a runner only has to put the config file
// there, or override the command with another "--config FILE".
//
// The image of another node kind (Foreign) adds that kind's static program
// at /usr/local/bin/<name> and makes it the entrypoint, with no default
// command: the runner passes the arguments the kind rendered. The reference
// node's binary stays in it for the helpers nomosrun runs beside a node
// (the network agent of the Kubernetes runner).
package nodeimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	kzgrstestparams "github.com/nomosrun/nomosrun/assets/kzgrs_test_params"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/versions"
	"github.com/nomosrun/nomosrun/simnode/da"
)

// Paths inside the image.
const (
	BinaryPath = "/usr/local/bin/nomos-node"
	ParamsPath = da.ContainerParamsPath
	ConfigDir  = "/config"
	ConfigPath = ConfigDir + "/node.yaml"
	DataDir    = "/data"
)

// Labels set on the image.
const (
	LabelImage   = "io.nomosrun.image"   // "node", or a foreign program's name
	LabelVersion = "io.nomosrun.version" // the node version of versions.env (the foreign program's)
	LabelSource  = "io.nomosrun.binary"  // where the node binary came from
)

// epoch is the fixed time of every file and of the image itself, so the same
// binary always gives the same image digest.
var epoch = time.Unix(0, 0).UTC()

// DefaultTag is the image tag the runners use: NOMOS_TESTNET_IMAGE from the
// environment, else the one pinned in versions.env.
func DefaultTag() string {
	if t := env.Image.Get(); t != "" {
		return t
	}
	return PinnedTag()
}

// PinnedTag is the image tag pinned in versions.env, whatever the
// environment says.
func PinnedTag() string {
	if v, err := versions.Default(); err == nil {
		return v.TestnetImage
	}
	// Unreachable in a built binary: the tests of internal/versions parse
	// the embedded versions.env.
	return "nomosrun/simnode:latest"
}

// Foreign is the program of a node kind other than the reference node, for
// its image.
type Foreign struct {
	// Name is the program's file name under /usr/local/bin.
	Name string
	// Path is its static binary on this machine.
	Path string
	// Version is the program's version, for the image label.
	Version string
}

// ProgramPath is where the image of another node kind holds that kind's
// program, its entrypoint.
func ProgramPath(name string) string { return "/usr/local/bin/" + name }

// Write builds the node image and writes it to w as a docker-archive
// tarball tagged tag (DefaultTag if empty), with foreign's program as the
// entrypoint when it is not nil. The node binary is found as FindBinary
// describes.
func Write(ctx context.Context, w io.Writer, tag string, foreign *Foreign) error {
	bin, err := FindBinary(ctx)
	if err != nil {
		return err
	}
	return WriteWith(ctx, w, tag, bin, foreign)
}

// WriteWith is Write with a given node binary.
func WriteWith(ctx context.Context, w io.Writer, tag string, bin Binary, foreign *Foreign) error {
	if tag == "" {
		tag = DefaultTag()
	}
	ref, err := name.NewTag(tag, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", tag, err)
	}
	img, err := Image(ctx, bin, foreign)
	if err != nil {
		return err
	}
	if err := tarball.Write(ref, img, w); err != nil {
		return fmt.Errorf("write image %s: %w", tag, err)
	}
	return nil
}

// Image assembles the image for bin: one layer with the KZG parameters and
// directories (the same for every build), one with the node binary, and
// one with foreign's program when it is not nil.
func Image(ctx context.Context, bin Binary, foreign *Foreign) (v1.Image, error) {
	pins, err := versions.Default()
	if err != nil {
		return nil, err
	}
	exe, err := os.ReadFile(bin.Path)
	if err != nil {
		return nil, fmt.Errorf("read node binary: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base, err := layer([]file{
		{name: "config/", mode: 0o755},
		{name: "data/", mode: 0o755},
		{name: "tmp/", mode: 0o1777},
		{name: "kzgrs_test_params/", mode: 0o755},
		{name: ParamsPath[1:], mode: 0o644, body: kzgrstestparams.File},
	})
	if err != nil {
		return nil, err
	}
	node, err := layer([]file{
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: BinaryPath[1:], mode: 0o755, body: exe},
	})
	if err != nil {
		return nil, err
	}
	layers := []v1.Layer{base, node}
	entrypoint, cmd := append([]string{BinaryPath}, bin.Args...), []string{"--config", ConfigPath}
	labels := map[string]string{LabelImage: "node", LabelVersion: pins.NomosNode, LabelSource: bin.Source}
	if foreign != nil {
		if static, err := isStatic(foreign.Path); err != nil || !static {
			return nil, fmt.Errorf("%s binary %s cannot run in an image FROM scratch: %v", foreign.Name, foreign.Path, cmpErr(err, "it is dynamically linked; build it with CGO_ENABLED=0"))
		}
		prog, err := os.ReadFile(foreign.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s binary: %w", foreign.Name, err)
		}
		path := ProgramPath(foreign.Name)
		l, err := layer([]file{{name: path[1:], mode: 0o755, body: prog}})
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
		entrypoint, cmd = []string{path}, nil
		labels[LabelImage], labels[LabelVersion] = foreign.Name, foreign.Version
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = runtime.GOARCH, "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		Entrypoint: entrypoint,
		Cmd:        cmd,
		WorkingDir: DataDir,
		Env: []string{
			"PATH=/usr/local/bin",
			da.ParamsEnv + "=" + ParamsPath,
			env.DevMode.Name + "=" + env.DevMode.Default,
			"TMPDIR=/tmp",
		},
		Labels:     labels,
		StopSignal: "SIGTERM",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	return img, nil
}

// file is one entry of a layer; a name ending in "/" is a directory.
type file struct {
	name string
	mode int64
	body []byte
}

// layer makes an image layer of files, owned by root, dated epoch.
func layer(files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: epoch, Format: tar.FormatPAX}
		if f.name[len(f.name)-1] == '/' {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image layer: %w", err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("image layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	raw := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	return l, nil
}

// cmpErr is err, or an error of msg when err is nil.
func cmpErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}
