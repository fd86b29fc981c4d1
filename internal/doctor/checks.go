package doctor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/versions"
	"github.com/nomosrun/nomosrun/nodeapi"
)

const modulePath = "github.com/nomosrun/nomosrun"

func ok(format string, args ...any) Result {
	return Result{OK: true, Detail: fmt.Sprintf(format, args...)}
}

func fail(fix, format string, args ...any) Result {
	return Result{Detail: fmt.Sprintf(format, args...), Fix: fix}
}

// checkVersions parses the versions.env embedded in the binary and, in a
// checkout of nomosrun, the repository's own file, which must match.
func checkVersions(_ context.Context, p *Probes) Result {
	emb, err := versions.Default()
	if err != nil {
		return fail("rebuild nomosrun from a checkout whose versions.env parses: go install ./cmd/nomosrun",
			"the versions.env built into nomosrun is invalid: %v", err)
	}
	root := repoRoot(p)
	if root == "" {
		return ok("built in: nomosrun %s, node %s, image %s", emb.Nomosrun, emb.NomosNode, emb.TestnetImage)
	}
	path := filepath.Join(root, "versions.env")
	data, err := p.ReadFile(path)
	if err != nil {
		return fail("restore it: git -C "+root+" checkout versions.env",
			"%s: %v", path, err)
	}
	v, err := versions.Parse(data)
	if err != nil {
		return fail("fix "+path+": one KEY=VALUE per line with NOMOSRUN_VERSION, NOMOS_NODE_VERSION, NOMOS_TESTNET_IMAGE, "+
			"KUBERNETES_VERSION and GO_STARLARK_VERSION set (git checkout versions.env restores it)", "%v", err)
	}
	if v.NomosNode != emb.NomosNode || v.TestnetImage != emb.TestnetImage || v.Nomosrun != emb.Nomosrun {
		return fail("rebuild nomosrun so it embeds the current file: go install ./cmd/nomosrun",
			"%s pins node %s, image %s but this binary was built with node %s, image %s",
			path, v.NomosNode, v.TestnetImage, emb.NomosNode, emb.TestnetImage)
	}
	return ok("%s: nomosrun %s, node %s, image %s", path, v.Nomosrun, v.NomosNode, v.TestnetImage)
}

// repoRoot returns the nomosrun checkout containing the working directory,
// or "" outside one.
func repoRoot(p *Probes) string {
	dir, err := p.Getwd()
	if err != nil {
		return ""
	}
	for {
		if data, err := p.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			line, _, _ := strings.Cut(string(data), "\n")
			if strings.TrimSpace(line) == "module "+modulePath {
				return dir
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// checkNodeBinary checks NOMOS_NODE_BIN and NOMOS_EXECUTOR_BIN when set.
func checkNodeBinary(_ context.Context, p *Probes) Result {
	var found []string
	for _, name := range []string{env.NodeBin.Name, env.ExecutorBin.Name} {
		path := p.Getenv(name)
		if path == "" {
			continue
		}
		fix := fmt.Sprintf("point %s at an executable node binary, or unset it to use the reference node built into nomosrun", name)
		fi, err := p.Stat(path)
		switch {
		case err != nil:
			return fail(fix, "%s=%s: no such file", name, path)
		case fi.IsDir():
			return fail(fix, "%s=%s is a directory", name, path)
		case fi.Mode().Perm()&0o111 == 0:
			return fail("make it executable: chmod +x "+path, "%s=%s is not executable", name, path)
		}
		found = append(found, name+"="+path)
	}
	if len(found) == 0 {
		return ok("the reference node built into nomosrun")
	}
	return ok("%s", strings.Join(found, ", "))
}

// checkKZG checks NOMOS_KZGRS_PARAMS_PATH when set: it must name the
// parameter file itself.
func checkKZG(_ context.Context, p *Probes) Result {
	path := p.Getenv(env.KZGParams.Name)
	if path == "" {
		return ok("built into nomosrun (NOMOS_KZGRS_PARAMS_PATH unset)")
	}
	fix := "set NOMOS_KZGRS_PARAMS_PATH to the parameter file, or unset it to use the parameters built into nomosrun " +
		"(write a file with: go run ./tools/kzgparams)"
	fi, err := p.Stat(path)
	switch {
	case err != nil:
		return fail(fix, "missing KZG parameters at %s", path)
	case fi.IsDir():
		return fail("NOMOS_KZGRS_PARAMS_PATH must name the file, not its directory: "+
			"export NOMOS_KZGRS_PARAMS_PATH="+filepath.Join(path, "kzgrs_test_params"), "%s is a directory", path)
	case fi.Size() == 0:
		return fail(fix, "%s is empty", path)
	}
	return ok("%s (%d bytes)", path, fi.Size())
}

// checkDevMode requires POL_PROOF_DEV_MODE unset (nodes get true) or true,
// read as the node reads it (nodeapi.ParseDevMode).
func checkDevMode(_ context.Context, p *Probes) Result {
	v := p.Getenv(nodeapi.DevModeEnv)
	if v == "" {
		return ok("unset: nodes run with POL_PROOF_DEV_MODE=true")
	}
	on, err := nodeapi.ParseDevMode(v)
	if err != nil {
		return fail("export POL_PROOF_DEV_MODE=true (or unset it)", "%v", err)
	}
	if on {
		return ok("%s", v)
	}
	return fail("export POL_PROOF_DEV_MODE=true (or unset it): without dev mode every node generates real proofs and runs time out",
		"POL_PROOF_DEV_MODE=%s", v)
}

// checkPorts binds a loopback TCP and UDP port, as every host node does.
func checkPorts(_ context.Context, p *Probes) Result {
	for _, network := range []string{"tcp", "udp"} {
		if err := p.Listen(network); err != nil {
			return fail("nodes listen on free loopback ports: bring the loopback interface up (ip link set lo up) "+
				"and leave free ports in net.ipv4.ip_local_port_range", "cannot bind a %s port on 127.0.0.1: %v", network, err)
		}
	}
	return ok("127.0.0.1 TCP and UDP ports can be bound")
}

// checkNetNS checks the privilege the host runner's netns mode needs, when
// NOMOS_HOST_NETWORK asks for it.
func checkNetNS(_ context.Context, p *Probes) Result {
	mode := strings.TrimSpace(p.Getenv(env.HostNetwork.Name))
	if mode == "" {
		mode = env.HostNetwork.Default
	}
	if mode == "loopback" {
		return ok("not needed: %s is loopback (network faults go through the nodes' testing API)", env.HostNetwork.Name)
	}
	err := p.NetNS()
	switch {
	case err == nil:
		return ok("nodes get a network namespace each (%s=%s): network faults are applied in the kernel", env.HostNetwork.Name, mode)
	case mode == "auto":
		return ok("nodes share loopback, network faults go through the nodes' testing API: %v", err)
	}
	return fail("run nomosrun as root or with CAP_NET_ADMIN and CAP_SYS_ADMIN, or set "+env.HostNetwork.Name+"=loopback",
		"%s=%s: %v", env.HostNetwork.Name, mode, err)
}
