package compose

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelfaults"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Cluster is a deployed Compose project.
type Cluster struct {
	cli    *client.Client
	log    *slog.Logger
	opts   Options
	kind   nodekind.Kind // how to read the nodes
	runID  string
	runDir string
	file   string
	nodes  []*node
	byName map[string]*node
	exits  *exitWatch
	// Faulter applies network faults in the containers' namespaces, when
	// this process may enter them (attachKernel).
	kernelfaults.Faulter

	mu       sync.Mutex
	torn     bool
	tornErr  error
	tearDown sync.Mutex // serializes Teardown calls
}

var (
	_ runners.Cluster      = (*Cluster)(nil)
	_ runners.Restarter    = (*Cluster)(nil)
	_ runners.Killer       = (*Cluster)(nil)
	_ runners.StopStarter  = (*Cluster)(nil)
	_ runners.Pauser       = (*Cluster)(nil)
	_ runners.Isolator     = (*Cluster)(nil)
	_ runners.LogCollector = (*Cluster)(nil)
	_ runners.NetFaulter   = (*Cluster)(nil)
)

// node is one service of the project.
type node struct {
	name       string
	role       plan.Role
	container  string     // container id
	p2pNetwork string     // id of the project's peer network
	p2pAddr    netip.Addr // its fixed address there (zero: Docker's choice)
	api, test  string
}

func (n *node) Name() string       { return n.name }
func (n *node) Role() plan.Role    { return n.role }
func (n *node) API() string        { return n.api }
func (n *node) TestingAPI() string { return n.test }

// Container implements runners.ContainerNode: the container's id, which
// stays the same across restarts.
func (n *node) Container() string { return n.container }

var _ runners.ContainerNode = (*node)(nil)

// RunID is the run's id: the Compose project name and the value of the
// io.nomosrun.run label on everything the run created.
func (c *Cluster) RunID() string { return c.runID }

// File is the generated Compose file in the run directory.
func (c *Cluster) File() string { return c.file }

// Nodes returns the nodes in topology order.
func (c *Cluster) Nodes() []runners.Node {
	out := make([]runners.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// p2pSubnet picks the peer network's subnet, so every node keeps its
// address when its container restarts: peers that resolve a name once and
// dial the address ever after (CometBFT's persistent peers) would else lose
// a node that came back elsewhere. A topology too large for a /24, or a
// machine without a free one, gets Docker's own addresses.
func p2pSubnet(nodes int, log *slog.Logger) netip.Prefix {
	if nodes > 250 {
		return netip.Prefix{}
	}
	p, err := kernelnet.PickSubnetFrom(kernelnet.ContainerSubnetBases)
	if err != nil {
		log.Warn("the peer network gets Docker's addresses, which may change when a node restarts", "err", err)
		return netip.Prefix{}
	}
	return p
}

// nodeAddr is the i-th node's address in subnet: .2 on (.1 is the bridge).
func nodeAddr(subnet netip.Prefix, i int) netip.Addr {
	b := subnet.Addr().As4()
	b[3] = byte(2 + i)
	return netip.AddrFrom4(b)
}

// up writes the Compose file with fresh host ports, brings the project up
// and reads every container's id, network and published ports back.
func (c *Cluster) up(ctx context.Context, nodes []plan.Node, configs []rendered) error {
	ports, err := freePorts(c.opts.HostIP, 2*len(nodes))
	if err != nil {
		return err
	}
	subnet := p2pSubnet(len(nodes), c.log)
	svcs := make([]serviceSpec, len(nodes))
	for i, n := range nodes {
		svcs[i] = serviceSpec{name: n.Name, configDir: configs[i].dir, command: configs[i].launch.Args,
			writable: configs[i].launch.WritableConfig, apiPort: ports[2*i], testPort: ports[2*i+1]}
		if subnet.IsValid() {
			svcs[i].p2pAddr = nodeAddr(subnet, i)
		}
	}
	vars := passthrough()
	grace := strconv.Itoa(int(c.opts.StopTimeout.Seconds())) + "s"
	yml, err := projectFile(c.runID, c.opts.Image, c.opts.HostIP, vars, grace, subnet, svcs)
	if err != nil {
		return fmt.Errorf("render the compose file: %w", err)
	}
	if err := os.WriteFile(c.file, yml, 0o644); err != nil {
		return fmt.Errorf("write the compose file: %w", err)
	}
	if err := compose(ctx, c.runID, c.file, "up", "-d", "--no-build"); err != nil {
		return err
	}
	c.nodes, c.byName = nil, map[string]*node{}
	for i, n := range nodes {
		nd := &node{name: n.Name, role: n.Role, p2pAddr: svcs[i].p2pAddr}
		if err := c.inspectNode(ctx, nd); err != nil {
			return err
		}
		c.nodes = append(c.nodes, nd)
		c.byName[n.Name] = nd
	}
	return nil
}

// inspectNode reads a node's container id, peer network and published
// API ports through the Docker API.
func (c *Cluster) inspectNode(ctx context.Context, n *node) error {
	info, err := c.cli.ContainerInspect(ctx, containerName(c.runID, n.name))
	if err != nil {
		return fmt.Errorf("inspect the container of %s: %w", n.name, err)
	}
	n.container = info.ID
	for name, ep := range info.NetworkSettings.Networks {
		if strings.HasSuffix(name, "_"+p2pNet) {
			n.p2pNetwork = ep.NetworkID
		}
	}
	if n.p2pNetwork == "" {
		return fmt.Errorf("the container of %s is not on the project's %s network", n.name, p2pNet)
	}
	url := func(port int) (string, error) {
		for _, b := range info.NetworkSettings.Ports[nat.Port(fmt.Sprintf("%d/tcp", port))] {
			if b.HostPort != "" {
				host := b.HostIP
				if host == "" || host == "0.0.0.0" {
					host = "127.0.0.1"
				}
				return "http://" + joinHostPort(host, b.HostPort), nil
			}
		}
		return "", fmt.Errorf("port %d of %s is not published", port, n.name)
	}
	if n.api, err = url(containerAPIPort); err != nil {
		return err
	}
	n.test, err = url(containerTestingPort)
	return err
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

func (c *Cluster) node(name string) (*node, error) {
	n, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("no node %q in this cluster", name)
	}
	return n, nil
}

// Teardown copies every container's log into RunDir/logs, then removes the
// project's containers, networks and volumes (unless preserved). It is safe
// to call more than once, also concurrently.
func (c *Cluster) Teardown(ctx context.Context) error {
	c.tearDown.Lock()
	defer c.tearDown.Unlock()
	c.mu.Lock()
	torn := c.torn
	c.mu.Unlock()
	if torn {
		return c.tornErr
	}
	if c.exits != nil {
		c.exits.stop()
	}
	if err := c.CollectLogs(ctx, filepath.Join(c.runDir, "logs")); err != nil {
		c.log.Warn("collect container logs", "err", err)
	}
	// Only handles: the rules live in the containers' namespaces.
	if err := c.closeKernel(); err != nil {
		c.log.Warn("close the kernel network", "err", err)
	}
	var err error
	if c.opts.Preserve {
		c.log.Warn(env.ComposePreserve.Name+" is set: the stack keeps running",
			"project", c.runID, "inspect", "docker ps --filter label="+LabelRun+"="+c.runID,
			"logs", "docker logs "+containerName(c.runID, "<node>"),
			"remove", "nomosrun clean --run "+c.runID)
	} else {
		err = c.remove(ctx)
	}
	c.mu.Lock()
	c.torn, c.tornErr = true, err
	c.mu.Unlock()
	return err
}

// remove brings the project down with Compose, then removes through the
// Docker API whatever still carries the run's label (for example after
// Compose itself was interrupted).
func (c *Cluster) remove(ctx context.Context) error {
	timeout := strconv.Itoa(int(c.opts.StopTimeout.Seconds()))
	downErr := compose(ctx, c.runID, c.file, "down", "--volumes", "--remove-orphans", "--timeout", timeout)
	if _, _, err := Clean(ctx, c.cli, c.runID); err != nil {
		return fmt.Errorf("remove the compose project %s: %w", c.runID, err)
	}
	if downErr != nil {
		c.log.Debug("compose down failed; removed the project through the Docker API", "err", downErr)
	}
	return nil
}

// Leftovers lists what of this run still exists in the engine.
func (c *Cluster) Leftovers(ctx context.Context) ([]string, error) {
	objs, err := list(ctx, c.cli, c.runID)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.String()
	}
	return out, nil
}

// passthrough returns the passthrough variables that are set, for every
// node's environment.
func passthrough() map[string]string {
	vars := map[string]string{}
	for _, k := range passthroughEnv {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	return vars
}
