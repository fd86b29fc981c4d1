// Package doctor checks the prerequisites of each runner (versions.env, the
// node binary, KZG parameters, POL_PROOF_DEV_MODE, free loopback ports,
// network namespaces for the host runner's netns mode, the
// Docker engine, Compose CLI and node image, the kubeconfig and cluster) and says how to
// fix each one that fails. Which checks a runner needs is part of the
// runner's registration (runners.Info.Checks names them); this package only
// knows the checks. Every outside call goes through Probes, so tests
// inject failures.
package doctor

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Result is the outcome of one check.
type Result struct {
	Name string
	OK   bool
	// Detail says what was found.
	Detail string
	// Fix says what to do; set when the check failed.
	Fix string
	// Needed is false for a check the chosen runner does not need; its
	// failure does not count.
	Needed bool
}

// Check is one prerequisite.
type Check struct {
	// Name identifies the check; runners name the checks they need by it.
	Name string
	// Every is set for a check every runner needs.
	Every bool
	// Run performs the check.
	Run func(ctx context.Context, p *Probes) Result
}

// neededBy reports whether a runner that names needs needs the check.
func (c Check) neededBy(needs []string) bool {
	return c.Every || slices.Contains(needs, c.Name)
}

// Docker is what the checks ask the Docker engine.
type Docker interface {
	// Host names the engine's address.
	Host() string
	// Ping checks the engine answers; it returns the engine's API version.
	Ping(ctx context.Context) (string, error)
	// ImageExists reports whether the engine has the image tag.
	ImageExists(ctx context.Context, tag string) (bool, error)
	Close() error
}

// Kube is what the checks ask a Kubernetes cluster.
type Kube interface {
	// Host is the API server URL of the current context.
	Host() string
	// ServerVersion returns the cluster's version (e.g. v1.37.2).
	ServerVersion(ctx context.Context) (string, error)
}

// Probes are the checks' access to the machine.
type Probes struct {
	Getenv func(string) string
	Stat   func(string) (fs.FileInfo, error)
	// ReadFile reads versions.env.
	ReadFile func(string) ([]byte, error)
	Getwd    func() (string, error)
	// Listen binds a TCP or UDP loopback port and returns it closed again.
	Listen func(network string) error
	// NetNS reports whether this process may manage network namespaces.
	NetNS func() error
	// Docker connects to the engine named by DOCKER_HOST (or the default).
	Docker func() (Docker, error)
	// Kube loads the kubeconfig (KUBECONFIG or ~/.kube/config).
	Kube func() (Kube, error)
	// ComposeCLI returns the Compose command found.
	ComposeCLI func() (string, error)
	// ImageTag is the image the compose and k8s runners deploy.
	ImageTag func() string
	// Timeout bounds each engine or cluster call (default 5 s).
	Timeout time.Duration
}

// Default returns the probes of this machine.
func Default() *Probes {
	return &Probes{
		Getenv: os.Getenv, Stat: os.Stat, ReadFile: os.ReadFile, Getwd: os.Getwd,
		Listen: func(network string) error {
			if network == "udp" {
				c, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				return c.Close()
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			return l.Close()
		},
		NetNS:  kernelnet.Available,
		Docker: dialDocker, Kube: loadKube, ComposeCLI: composeCLI, ImageTag: nodeimage.DefaultTag,
	}
}

// Checks returns every check, in the order they are printed.
func Checks() []Check {
	return []Check{
		{Name: "versions.env", Every: true, Run: checkVersions},
		{Name: "node binary", Run: checkNodeBinary},
		{Name: "KZG parameters", Run: checkKZG},
		{Name: "POL_PROOF_DEV_MODE", Every: true, Run: checkDevMode},
		{Name: "free ports", Run: checkPorts},
		{Name: "network namespaces", Run: checkNetNS},
		{Name: "Docker engine", Run: checkDocker},
		{Name: "Compose CLI", Run: checkCompose},
		{Name: "node image", Run: checkImage},
		{Name: "kubeconfig", Run: checkKubeconfig},
		{Name: "cluster", Run: checkCluster},
	}
}

// Run runs the checks: all of them when all is set, else those every
// runner needs and those named in needs (a runner's registered checks).
// Results are in check order; a name in needs that is no check is a failed
// result, so a misspelt registration shows.
func Run(ctx context.Context, p *Probes, needs []string, all bool) []Result {
	if p.Timeout <= 0 {
		p.Timeout = 5 * time.Second
	}
	var out []Result
	known := map[string]bool{}
	for _, c := range Checks() {
		known[c.Name] = true
		needed := c.neededBy(needs)
		if !needed && !all {
			continue
		}
		r := c.Run(ctx, p)
		r.Name, r.Needed = c.Name, needed
		out = append(out, r)
	}
	for _, n := range needs {
		if !known[n] {
			out = append(out, Result{Name: n, Needed: true, Detail: "no such doctor check",
				Fix: "name a check of internal/doctor in the runner's registration"})
		}
	}
	return out
}

// Failed returns the failed checks the runner needs.
func Failed(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Needed && !r.OK {
			out = append(out, r)
		}
	}
	return out
}

// Write prints one line per check (ok, FAIL, or "--" for a failed check the
// runner does not need), each failure followed by its fix.
func Write(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range results {
		mark := "ok"
		switch {
		case !r.OK && r.Needed:
			mark = "FAIL"
		case !r.OK:
			mark = "--"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, r.Name, r.Detail)
		if !r.OK {
			for _, line := range strings.Split(r.Fix, "\n") {
				fmt.Fprintf(tw, "\t\tfix: %s\n", line)
			}
		}
	}
	return tw.Flush()
}

// Error is the failure of the checks a runner needs.
type Error struct {
	// Runner is the runner's name.
	Runner string
	// Failed are the failed checks the runner needs.
	Failed []Result
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the %s runner is not ready:", e.Runner)
	for _, r := range e.Failed {
		fmt.Fprintf(&b, "\n  %s: %s\n    fix: %s", r.Name, r.Detail, strings.ReplaceAll(r.Fix, "\n", "\n    fix: "))
	}
	return b.String()
}

// Require runs the checks the named runner needs (those every runner needs
// and needs) and returns an *Error naming each failure with its fix, or nil.
func Require(ctx context.Context, p *Probes, runner string, needs []string) error {
	if failed := Failed(Run(ctx, p, needs, false)); len(failed) > 0 {
		return &Error{Runner: runner, Failed: failed}
	}
	return nil
}
