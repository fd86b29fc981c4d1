package nodeimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/nomosrun/nomosrun/internal/env"
)

// modulePath is the module whose cmd/simnode is built when no static binary
// is at hand.
const modulePath = "github.com/nomosrun/nomosrun"

// Binary is a static node binary for the image.
type Binary struct {
	// Path is the binary on this machine.
	Path string
	// Args come before "--config FILE" on the node's command line (the
	// subcommand of a binary that embeds the node, such as "node").
	Args []string
	// Source says where the binary came from, for logs and the image label.
	Source string
}

var (
	selfMu   sync.Mutex
	selfArgs []string
)

// SetSelfNode declares that the running executable starts a node when given
// args followed by "--config FILE" (nomosrun: "node"). FindBinary then uses
// the executable itself if it is statically linked.
func SetSelfNode(args ...string) {
	selfMu.Lock()
	defer selfMu.Unlock()
	selfArgs = append([]string{}, args...)
}

// FindBinary returns the node binary for the image, the first of:
//
//  1. NOMOS_NODE_BIN, which must be statically linked;
//  2. the running executable, if it embeds the node (SetSelfNode) and is
//     statically linked (CGO_ENABLED=0 builds are);
//  3. cmd/simnode built with CGO_ENABLED=0 from the module source, found from
//     the working directory or this package's source, when the go command
//     is on PATH. The result is cached in the user cache directory under a
//     hash of the sources and the Go version (the three newest are kept).
//
// If none applies it returns one error saying how to get a static binary.
func FindBinary(ctx context.Context) (Binary, error) {
	if p := env.NodeBin.Get(); p != "" {
		static, err := isStatic(p)
		if err != nil {
			return Binary{}, fmt.Errorf("%s=%s: %w", env.NodeBin.Name, p, err)
		}
		if !static {
			return Binary{}, fmt.Errorf("%s=%s is dynamically linked and cannot run in the node image, which is built FROM scratch; build a static one with: CGO_ENABLED=0 go build -trimpath -o simnode ./cmd/simnode", env.NodeBin.Name, p)
		}
		return Binary{Path: p, Source: env.NodeBin.Name}, nil
	}
	selfMu.Lock()
	args, self := selfArgs, selfArgs != nil
	selfMu.Unlock()
	if self {
		if exe, err := os.Executable(); err == nil {
			if static, err := isStatic(exe); err == nil && static {
				return Binary{Path: exe, Args: args, Source: "self"}, nil
			}
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return Binary{}, noBinaryError(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return Binary{}, noBinaryError(fmt.Errorf("the go command is not on PATH to build the node from %s", root))
	}
	path, err := buildSimnode(ctx, goBin, root)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Path: path, Source: "source"}, nil
}

func noBinaryError(cause error) error {
	return fmt.Errorf("no static node binary for the image (%v); run from a nomosrun source checkout with Go installed, "+
		"install a static nomosrun (CGO_ENABLED=0 go install ./cmd/nomosrun), or set %s to a binary built with "+
		"CGO_ENABLED=0 go build -trimpath ./cmd/simnode", cause, env.NodeBin.Name)
}

// isStatic reports whether the ELF executable at path has no program
// interpreter, that is needs no dynamic loader.
func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("not a Linux executable: %w", err)
	}
	defer f.Close()
	if f.Machine != machine() {
		return false, fmt.Errorf("built for %s, this machine is %s", f.Machine, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

func machine() elf.Machine {
	switch runtime.GOARCH {
	case "arm64":
		return elf.EM_AARCH64
	default:
		return elf.EM_X86_64
	}
}

// moduleRoot finds the nomosrun source: the working directory or a parent
// holding its go.mod, else the module this package was compiled from.
func moduleRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if isModule(filepath.Join(dir, "go.mod")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("no nomosrun source checkout found")
}

func isModule(goMod string) bool {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1] == modulePath
		}
	}
	return false
}

// buildSimnode builds cmd/simnode statically into the cache, unless a binary
// of the same sources and Go version is there already.
func buildSimnode(ctx context.Context, goBin, root string) (string, error) {
	key, err := sourceKey(ctx, goBin, root)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "nomosrun", "node")
	out := filepath.Join(dir, "simnode-"+key)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("node binary cache: %w", err)
	}
	slog.Info("building a static node binary for the image", "source", root, "output", out)
	tmp := out + ".tmp"
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", tmp, "./cmd/simnode")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build the node binary (CGO_ENABLED=0 go build ./cmd/simnode in %s): %w\n%s", root, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("node binary cache: %w", err)
	}
	pruneCache(dir, keepBinaries)
	return out, nil
}

// keepBinaries is how many cached node binaries survive a new build: a few,
// so checkouts of different versions on one machine do not rebuild in turn.
const keepBinaries = 3

// pruneCache removes all but the keep newest node binaries in dir.
func pruneCache(dir string, keep int) {
	paths, _ := filepath.Glob(filepath.Join(dir, "simnode-*"))
	type entry struct {
		path string
		mod  int64
	}
	var es []entry
	for _, p := range paths {
		if strings.HasSuffix(p, ".tmp") {
			continue
		}
		if st, err := os.Stat(p); err == nil {
			es = append(es, entry{p, st.ModTime().UnixNano()})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod > es[j].mod })
	for i := keep; i < len(es); i++ {
		os.Remove(es[i].path)
	}
}

// sourceKey hashes the Go version, go.mod, go.sum and every file that goes
// into cmd/simnode from this module (Go and embedded files).
func sourceKey(ctx context.Context, goBin, root string) (string, error) {
	cmd := exec.CommandContext(ctx, goBin, "list", "-deps",
		"-f", `{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		"./cmd/simnode")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	list, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("list the node's sources in %s: %w\n%s", root, err, strings.TrimSpace(stderr.String()))
	}
	h := sha256.New()
	fmt.Fprintf(h, "go %s %s\n", goVersion(ctx, goBin), runtime.GOARCH)
	files := append([]string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")},
		lines(string(list))...)
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("hash the node's sources: %w", err)
		}
		fmt.Fprintf(h, "%s\n", strings.TrimPrefix(p, root))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("hash the node's sources: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func goVersion(ctx context.Context, goBin string) string {
	out, err := exec.CommandContext(ctx, goBin, "env", "GOVERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// lines splits s into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
