package doctor

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/runners"
	_ "github.com/nomosrun/nomosrun/runners/compose" // registers the compose runner
	_ "github.com/nomosrun/nomosrun/runners/host"    // registers the host runner
	_ "github.com/nomosrun/nomosrun/runners/k8s"     // registers the k8s runner
)

// needs returns the checks the named runner registered.
func needs(tb testing.TB, runner string) []string {
	tb.Helper()
	info, err := runners.Lookup(runner)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Checks
}

// TestRegisteredChecksExist: every check a runner registers is a check of
// this package.
func TestRegisteredChecksExist(t *testing.T) {
	known := map[string]bool{}
	for _, c := range Checks() {
		known[c.Name] = true
	}
	for _, info := range runners.All() {
		for _, n := range info.Checks {
			if !known[n] {
				t.Errorf("runner %s needs %q, which is no doctor check", info.Name, n)
			}
		}
	}
	r := Run(context.Background(), healthy(), []string{"no such check"}, false)
	if f := Failed(r); len(f) != 1 || f[0].Name != "no such check" {
		t.Errorf("an unknown check name: failed %+v", f)
	}
}

// fakeFile is a FileInfo for Stat.
type fakeFile struct {
	dir  bool
	mode fs.FileMode
	size int64
}

func (f fakeFile) Name() string       { return "f" }
func (f fakeFile) Size() int64        { return f.size }
func (f fakeFile) Mode() fs.FileMode  { return f.mode }
func (f fakeFile) ModTime() time.Time { return time.Time{} }
func (f fakeFile) IsDir() bool        { return f.dir }
func (f fakeFile) Sys() any           { return nil }

type fakeDocker struct {
	pingErr  error
	images   map[string]bool
	imageErr error
}

func (d fakeDocker) Host() string { return "unix:///var/run/docker.sock" }
func (d fakeDocker) Close() error { return nil }
func (d fakeDocker) Ping(context.Context) (string, error) {
	return "1.41", d.pingErr
}
func (d fakeDocker) ImageExists(_ context.Context, tag string) (bool, error) {
	return d.images[tag], d.imageErr
}

type fakeKube struct{ err error }

func (k fakeKube) Host() string { return "https://127.0.0.1:6443" }
func (k fakeKube) ServerVersion(context.Context) (string, error) {
	return "v1.37.2", k.err
}

const goodVersions = "NOMOSRUN_VERSION=0.1.0\nNOMOS_NODE_VERSION=0.1.0\nNOMOS_TESTNET_IMAGE=nomosrun/simnode:0.1.0\n" +
	"KUBERNETES_VERSION=v1.37.2\nGO_STARLARK_VERSION=v0\n"

// healthy returns probes on which every check passes.
func healthy() *Probes {
	env := map[string]string{}
	files := map[string]string{"/src/go.mod": "module github.com/nomosrun/nomosrun\n\ngo 1.26\n", "/src/versions.env": goodVersions}
	return &Probes{
		Getenv: func(k string) string { return env[k] },
		Stat: func(p string) (fs.FileInfo, error) {
			switch p {
			case "/bin/node":
				return fakeFile{mode: 0o755, size: 10}, nil
			case "/params/kzgrs_test_params":
				return fakeFile{mode: 0o644, size: 100}, nil
			case "/params", "/bin":
				return fakeFile{dir: true, mode: fs.ModeDir | 0o755}, nil
			case "/empty":
				return fakeFile{mode: 0o644}, nil
			case "/bin/noexec":
				return fakeFile{mode: 0o644, size: 10}, nil
			}
			return nil, fs.ErrNotExist
		},
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		Getwd:  func() (string, error) { return "/src/cmd", nil },
		Listen: func(string) error { return nil },
		NetNS:  func() error { return nil },
		Docker: func() (Docker, error) {
			return fakeDocker{images: map[string]bool{"nomosrun/simnode:0.1.0": true}}, nil
		},
		Kube:       func() (Kube, error) { return fakeKube{}, nil },
		ComposeCLI: func() (string, error) { return "/usr/bin/docker-compose", nil },
		ImageTag:   func() string { return "nomosrun/simnode:0.1.0" },
	}
}

func withEnv(p *Probes, kv ...string) *Probes {
	env := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	p.Getenv = func(k string) string { return env[k] }
	return p
}

// TestMissingImagePasses: the compose runner builds a missing image itself.
func TestMissingImagePasses(t *testing.T) {
	p := healthy()
	p.Docker = func() (Docker, error) { return fakeDocker{images: map[string]bool{}}, nil }
	r := Run(context.Background(), p, needs(t, "compose"), false)
	for _, res := range r {
		if res.Name == "node image" && (!res.OK || !strings.Contains(res.Detail, "the first compose run builds it")) {
			t.Errorf("missing image: %+v", res)
		}
	}
}

func TestAllPass(t *testing.T) {
	for _, runner := range []string{"host", "compose", "k8s"} {
		results := Run(context.Background(), healthy(), needs(t, runner), true)
		if len(results) != len(Checks()) {
			t.Fatalf("%d results, want %d", len(results), len(Checks()))
		}
		for _, r := range results {
			if !r.OK {
				t.Errorf("%s: %s: %s (fix %s)", runner, r.Name, r.Detail, r.Fix)
			}
		}
		if err := Require(context.Background(), healthy(), runner, needs(t, runner)); err != nil {
			t.Errorf("%s: %v", runner, err)
		}
	}
}

// TestFailures injects one broken prerequisite at a time and checks the
// failing check, its detail and the exact fix text.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name, runner string
		probes       func() *Probes
		check        string
		detail, fix  string
	}{
		{"versions.env unreadable", "host", func() *Probes {
			p := healthy()
			read := p.ReadFile
			p.ReadFile = func(f string) ([]byte, error) {
				if f == "/src/versions.env" {
					return nil, errors.New("permission denied")
				}
				return read(f)
			}
			return p
		}, "versions.env", "/src/versions.env: permission denied", "restore it: git -C /src checkout versions.env"},
		{"versions.env invalid", "compose", func() *Probes {
			p := healthy()
			read := p.ReadFile
			p.ReadFile = func(f string) ([]byte, error) {
				if f == "/src/versions.env" {
					return []byte("NOMOSRUN_VERSION=0.1.0\n"), nil
				}
				return read(f)
			}
			return p
		}, "versions.env", "versions.env: NOMOS_NODE_VERSION is missing",
			"fix /src/versions.env: one KEY=VALUE per line with NOMOSRUN_VERSION, NOMOS_NODE_VERSION, NOMOS_TESTNET_IMAGE, " +
				"KUBERNETES_VERSION and GO_STARLARK_VERSION set (git checkout versions.env restores it)"},
		{"versions.env newer than the binary", "host", func() *Probes {
			p := healthy()
			read := p.ReadFile
			p.ReadFile = func(f string) ([]byte, error) {
				if f == "/src/versions.env" {
					return []byte(strings.ReplaceAll(goodVersions, "NOMOS_NODE_VERSION=0.1.0", "NOMOS_NODE_VERSION=0.2.0")), nil
				}
				return read(f)
			}
			return p
		}, "versions.env", "/src/versions.env pins node 0.2.0, image nomosrun/simnode:0.1.0 but this binary was built with node 0.1.0, image nomosrun/simnode:0.1.0",
			"rebuild nomosrun so it embeds the current file: go install ./cmd/nomosrun"},
		{"node binary missing", "host", func() *Probes { return withEnv(healthy(), "NOMOS_NODE_BIN", "/bin/nope") },
			"node binary", "NOMOS_NODE_BIN=/bin/nope: no such file",
			"point NOMOS_NODE_BIN at an executable node binary, or unset it to use the reference node built into nomosrun"},
		{"executor binary is a directory", "host", func() *Probes {
			return withEnv(healthy(), "NOMOS_NODE_BIN", "/bin/node", "NOMOS_EXECUTOR_BIN", "/bin")
		}, "node binary", "NOMOS_EXECUTOR_BIN=/bin is a directory",
			"point NOMOS_EXECUTOR_BIN at an executable node binary, or unset it to use the reference node built into nomosrun"},
		{"node binary not executable", "host", func() *Probes { return withEnv(healthy(), "NOMOS_NODE_BIN", "/bin/noexec") },
			"node binary", "NOMOS_NODE_BIN=/bin/noexec is not executable", "make it executable: chmod +x /bin/noexec"},
		{"KZG parameters missing", "host", func() *Probes { return withEnv(healthy(), "NOMOS_KZGRS_PARAMS_PATH", "/nope/kzgrs_test_params") },
			"KZG parameters", "missing KZG parameters at /nope/kzgrs_test_params",
			"set NOMOS_KZGRS_PARAMS_PATH to the parameter file, or unset it to use the parameters built into nomosrun " +
				"(write a file with: go run ./tools/kzgparams)"},
		{"KZG parameters path is the directory", "host", func() *Probes { return withEnv(healthy(), "NOMOS_KZGRS_PARAMS_PATH", "/params") },
			"KZG parameters", "/params is a directory",
			"NOMOS_KZGRS_PARAMS_PATH must name the file, not its directory: export NOMOS_KZGRS_PARAMS_PATH=/params/kzgrs_test_params"},
		{"KZG parameters empty", "host", func() *Probes { return withEnv(healthy(), "NOMOS_KZGRS_PARAMS_PATH", "/empty") },
			"KZG parameters", "/empty is empty",
			"set NOMOS_KZGRS_PARAMS_PATH to the parameter file, or unset it to use the parameters built into nomosrun " +
				"(write a file with: go run ./tools/kzgparams)"},
		{"dev mode off", "k8s", func() *Probes { return withEnv(healthy(), "POL_PROOF_DEV_MODE", "false") },
			"POL_PROOF_DEV_MODE", "POL_PROOF_DEV_MODE=false",
			"export POL_PROOF_DEV_MODE=true (or unset it): without dev mode every node generates real proofs and runs time out"},
		{"dev mode not a boolean", "host", func() *Probes { return withEnv(healthy(), "POL_PROOF_DEV_MODE", "maybe") },
			"POL_PROOF_DEV_MODE", `environment variable POL_PROOF_DEV_MODE="maybe" is not a boolean (want true, false, 1 or 0)`,
			"export POL_PROOF_DEV_MODE=true (or unset it)"},
		{"no free ports", "host", func() *Probes {
			p := healthy()
			p.Listen = func(n string) error {
				if n == "udp" {
					return errors.New("address already in use")
				}
				return nil
			}
			return p
		}, "free ports", "cannot bind a udp port on 127.0.0.1: address already in use",
			"nodes listen on free loopback ports: bring the loopback interface up (ip link set lo up) and leave free ports in net.ipv4.ip_local_port_range"},
		{"docker down", "compose", func() *Probes {
			p := healthy()
			p.Docker = func() (Docker, error) { return fakeDocker{pingErr: errors.New("connection refused")}, nil }
			return p
		}, "Docker engine", "cannot reach the Docker engine at unix:///var/run/docker.sock: connection refused",
			"start the Docker engine (systemctl start docker, or dockerd) and make sure this user may use it (root or the docker group), " +
				"or set DOCKER_HOST to a reachable engine"},
		{"docker client unusable", "compose", func() *Probes {
			p := healthy()
			p.Docker = func() (Docker, error) { return nil, errors.New("docker client: bad DOCKER_HOST") }
			return p
		}, "Docker engine", "docker client: bad DOCKER_HOST",
			"start the Docker engine (systemctl start docker, or dockerd) and make sure this user may use it (root or the docker group), " +
				"or set DOCKER_HOST to a reachable engine"},
		{"image inspect fails", "compose", func() *Probes {
			p := healthy()
			p.Docker = func() (Docker, error) { return fakeDocker{imageErr: errors.New("500 internal error")}, nil }
			return p
		}, "node image", "cannot inspect nomosrun/simnode:0.1.0 at unix:///var/run/docker.sock: 500 internal error",
			"check the engine's log (journalctl -u docker): inspecting images must work"},
		{"custom image missing", "compose", func() *Probes {
			p := healthy()
			p.ImageTag = func() string { return "mine/node:dev" }
			p.Docker = func() (Docker, error) { return fakeDocker{images: map[string]bool{}}, nil }
			return p
		}, "node image", "mine/node:dev (from NOMOS_TESTNET_IMAGE) is not in the engine at unix:///var/run/docker.sock; only nomosrun/simnode:0.1.0 is built on demand",
			"build it: nomosrun image build --tag mine/node:dev"},
		{"no Compose CLI", "compose", func() *Probes {
			p := healthy()
			p.ComposeCLI = func() (string, error) { return "", errors.New("neither 'docker compose' nor 'docker-compose' works") }
			return p
		}, "Compose CLI", "neither 'docker compose' nor 'docker-compose' works",
			"install Compose: apt-get install docker-compose (v1), or the docker compose plugin (v2)"},
		{"no kubeconfig", "k8s", func() *Probes {
			p := healthy()
			p.Kube = func() (Kube, error) { return nil, errors.New("no kubeconfig (looked in ~/.kube/config)") }
			return p
		}, "kubeconfig", "no kubeconfig (looked in ~/.kube/config)",
			"set KUBECONFIG to the cluster's kubeconfig file, or write it to ~/.kube/config"},
		{"cluster unreachable", "k8s", func() *Probes {
			p := healthy()
			p.Kube = func() (Kube, error) { return fakeKube{err: errors.New("connection refused")}, nil }
			return p
		}, "cluster", "cannot reach the API server at https://127.0.0.1:6443: connection refused",
			"start the cluster, or select a reachable one: kubectl config use-context NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			results := Run(context.Background(), tc.probes(), needs(t, tc.runner), false)
			failed := Failed(results)
			// Checks that depend on the broken one fail after it.
			if len(failed) == 0 || failed[0].Name != tc.check {
				t.Fatalf("failed checks %+v, want %s first", failed, tc.check)
			}
			if failed[0].Detail != tc.detail {
				t.Errorf("detail\n got %q\nwant %q", failed[0].Detail, tc.detail)
			}
			if failed[0].Fix != tc.fix {
				t.Errorf("fix\n got %q\nwant %q", failed[0].Fix, tc.fix)
			}
			err := Require(context.Background(), tc.probes(), tc.runner, needs(t, tc.runner))
			var de *Error
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "fix: "+strings.Split(tc.fix, "\n")[0]) {
				t.Errorf("Require = %v", err)
			}
			var out bytes.Buffer
			Write(&out, results)
			if !strings.Contains(out.String(), "FAIL  "+tc.check) {
				t.Errorf("output lacks the FAIL line:\n%s", out.String())
			}
		})
	}
}

// TestNotNeededFailureDoesNotCount: a broken Docker engine does not stop
// the host runner; doctor still shows it, marked "--".
func TestNotNeededFailureDoesNotCount(t *testing.T) {
	p := healthy()
	p.Docker = func() (Docker, error) { return fakeDocker{pingErr: errors.New("connection refused")}, nil }
	results := Run(context.Background(), p, needs(t, "host"), true)
	if f := Failed(results); len(f) != 0 {
		t.Errorf("host failed on %+v", f)
	}
	var out bytes.Buffer
	Write(&out, results)
	if !strings.Contains(out.String(), "--  Docker engine") {
		t.Errorf("output:\n%s", out.String())
	}
	if got := Run(context.Background(), p, needs(t, "host"), false); len(got) != 6 {
		t.Errorf("host needs %d checks, want 6", len(got))
	}
}

// TestNetNSCheck: only netns mode needs the privilege; auto (the default)
// says which mode it gets.
func TestNetNSCheck(t *testing.T) {
	denied := errors.New("network namespaces need CAP_SYS_ADMIN")
	for _, tc := range []struct {
		mode   string
		err    error
		ok     bool
		detail string
	}{
		{"", denied, true, "share loopback"}, {"", nil, true, "namespace each"}, {"loopback", denied, true, "not needed"},
		{"auto", denied, true, "loopback"}, {"auto", nil, true, "namespace each"},
		{"netns", nil, true, "namespace each"}, {"netns", denied, false, "CAP_SYS_ADMIN"},
	} {
		p := withEnv(healthy(), "NOMOS_HOST_NETWORK", tc.mode)
		p.NetNS = func() error { return tc.err }
		r := checkNetNS(context.Background(), p)
		if r.OK != tc.ok || !strings.Contains(r.Detail, tc.detail) || (!r.OK && r.Fix == "") {
			t.Errorf("mode %q, err %v: %+v", tc.mode, tc.err, r)
		}
	}
}

// TestHostChecksOnThisMachine runs the host runner's real checks, which the
// test machine must pass, and bounds their time: nomosrun run does them
// before every run.
func TestHostChecksOnThisMachine(t *testing.T) {
	if os.Getenv("POL_PROOF_DEV_MODE") != "" && !strings.EqualFold(os.Getenv("POL_PROOF_DEV_MODE"), "true") {
		t.Skip("POL_PROOF_DEV_MODE is set to something else than true here")
	}
	start := time.Now()
	if err := Require(context.Background(), Default(), "host", needs(t, "host")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("host checks took %s", d)
	}
}

func BenchmarkHostChecks(b *testing.B) {
	for b.Loop() {
		if err := Require(context.Background(), Default(), "host", needs(b, "host")); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDevModeReadAsTheNodeReadsIt: every spelling of true the node accepts
// passes the check, every spelling of false fails it.
func TestDevModeReadAsTheNodeReadsIt(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "TRUE": true, "t": true, "false": false, "0": false, "F": false} {
		if got := checkDevMode(context.Background(), withEnv(healthy(), "POL_PROOF_DEV_MODE", v)); got.OK != want {
			t.Errorf("POL_PROOF_DEV_MODE=%s: ok=%v (%s), want %v", v, got.OK, got.Detail, want)
		}
	}
}
