package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/owner"
	"github.com/nomosrun/nomosrun/nodeimage"
)

// Labels on every container, network and volume of a run.
const (
	LabelRun  = "io.nomosrun.run"  // the run id (also the Compose project name)
	LabelNode = "io.nomosrun.node" // the node name, on containers and volumes
	// LabelOwner is host:pid of the nomosrun process that made the object;
	// a clean of every run leaves alone the runs whose process still runs.
	LabelOwner = "io.nomosrun.owner"
)

// Names of the two networks of a project. Nodes talk to each other only on
// p2pNet (internal: no way out of the machine); the API ports are published
// through ctlNet, where containers cannot reach each other, so cutting a
// node off p2pNet isolates it while its API stays reachable.
const (
	p2pNet = "p2p"
	ctlNet = "ctl"
)

// composeFile is the part of the Compose file format the runner writes,
// understood by docker-compose v1 (file format 2.4) and docker compose v2.
type composeFile struct {
	Version  string                    `yaml:"version"`
	Services map[string]composeService `yaml:"services"`
	Networks map[string]composeNetwork `yaml:"networks"`
	Volumes  map[string]composeVolume  `yaml:"volumes"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	ContainerName   string                       `yaml:"container_name"`
	Hostname        string                       `yaml:"hostname"`
	Command         []string                     `yaml:"command"`
	Environment     map[string]string            `yaml:"environment,omitempty"`
	Volumes         []string                     `yaml:"volumes"`
	Ports           []string                     `yaml:"ports"`
	Networks        map[string]composeServiceNet `yaml:"networks"`
	Labels          map[string]string            `yaml:"labels"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
}

type composeServiceNet struct {
	Aliases     []string `yaml:"aliases,omitempty"`
	IPv4Address string   `yaml:"ipv4_address,omitempty"`
}

type composeNetwork struct {
	Internal   bool              `yaml:"internal,omitempty"`
	DriverOpts map[string]string `yaml:"driver_opts,omitempty"`
	IPAM       *composeIPAM      `yaml:"ipam,omitempty"`
	Labels     map[string]string `yaml:"labels"`
}

type composeIPAM struct {
	Config []composeSubnet `yaml:"config"`
}

type composeSubnet struct {
	Subnet string `yaml:"subnet"`
}

type composeVolume struct {
	Labels map[string]string `yaml:"labels"`
}

// serviceSpec is what the compose file needs to know about one node.
type serviceSpec struct {
	name      string
	configDir string
	command   []string
	writable  bool       // the node writes into its config directory
	p2pAddr   netip.Addr // the node's fixed address on the peer network
	apiPort   int        // host port of the API
	testPort  int        // host port of the testing API
}

// projectFile renders the Compose file of a run. With a valid subnet, the
// peer network takes it and every node its p2pAddr there.
func projectFile(runID, image, hostIP string, env map[string]string, stopGrace string, subnet netip.Prefix, svcs []serviceSpec) ([]byte, error) {
	labels := func(node string) map[string]string {
		l := map[string]string{LabelRun: runID, LabelOwner: owner.Self()}
		if node != "" {
			l[LabelNode] = node
		}
		return l
	}
	f := composeFile{
		Version:  "2.4",
		Services: map[string]composeService{},
		Networks: map[string]composeNetwork{
			p2pNet: {Internal: true, Labels: labels("")},
			ctlNet: {DriverOpts: map[string]string{"com.docker.network.bridge.enable_icc": "false"}, Labels: labels("")},
		},
		Volumes: map[string]composeVolume{},
	}
	if subnet.IsValid() {
		p2p := f.Networks[p2pNet]
		p2p.IPAM = &composeIPAM{Config: []composeSubnet{{Subnet: subnet.String()}}}
		f.Networks[p2pNet] = p2p
	}
	for _, s := range svcs {
		vol := "data-" + s.name
		f.Volumes[vol] = composeVolume{Labels: labels(s.name)}
		mode := ":ro"
		if s.writable {
			mode = ""
		}
		f.Services[s.name] = composeService{
			Image:         image,
			ContainerName: containerName(runID, s.name),
			Hostname:      s.name,
			Command:       s.command,
			Environment:   env,
			Volumes:       []string{s.configDir + ":" + nodeimage.ConfigDir + mode, vol + ":" + nodeimage.DataDir},
			Ports: []string{
				fmt.Sprintf("%s:%d:%d", hostIP, s.apiPort, containerAPIPort),
				fmt.Sprintf("%s:%d:%d", hostIP, s.testPort, containerTestingPort),
			},
			Networks: map[string]composeServiceNet{
				p2pNet: {Aliases: []string{p2pAlias(s.name)}, IPv4Address: addrString(s.p2pAddr)},
				ctlNet: {},
			},
			Labels:          labels(s.name),
			StopGracePeriod: stopGrace,
		}
	}
	return yaml.Marshal(f)
}

// addrString is a's text, or "" for the zero address.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// containerName is the fixed name of a node's container, the same for
// Compose v1 and v2.
func containerName(runID, node string) string { return runID + "-" + node }

// composeCLI is the Compose command: NOMOS_COMPOSE_CLI when set, else
// "docker compose" (the v2 plugin) if it answers, else docker-compose on
// PATH (v1).
var composeCLI = sync.OnceValues(func() ([]string, error) {
	if v := env.ComposeCLI.Get(); v != "" {
		cli := strings.Fields(v)
		if err := exec.Command(cli[0], append(cli[1:], "version")...).Run(); err != nil {
			return nil, fmt.Errorf("%s=%q does not answer '%s version': %w", env.ComposeCLI.Name, v, v, err)
		}
		return cli, nil
	}
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}, nil
	}
	return nil, errors.New("no Compose CLI: neither 'docker compose' nor 'docker-compose' works (on Debian: apt-get install docker-compose)")
})

// CLI returns the Compose command the runner uses and its version ("2.40.3",
// "1.29.2"), asked once per process.
func CLI() ([]string, string, error) {
	cli, err := composeCLI()
	if err != nil {
		return nil, "", err
	}
	v, err := cliVersion()
	return cli, v, err
}

var cliVersion = sync.OnceValues(func() (string, error) {
	cli, err := composeCLI()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(cli[0], append(cli[1:], "version", "--short")...).Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", strings.Join(cli, " "), err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), nil
})

// compose runs the Compose CLI on the project and returns its combined
// output in the error when it fails.
func compose(ctx context.Context, runID, file string, args ...string) error {
	cli, err := composeCLI()
	if err != nil {
		return err
	}
	argv := append(append(append([]string{}, cli[1:]...), "-p", runID, "-f", file), args...)
	cmd := exec.CommandContext(ctx, cli[0], argv...)
	cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME="+runID)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", strings.Join(cli, " "), strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
