package kernelnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Options configure a run's network.
type Options struct {
	// Prefix starts every namespace name of the run. Default DefaultPrefix.
	Prefix string
	// Nodes are the node names, lower-case letters, digits and dashes; at
	// most 250.
	Nodes []string
	// CutTimeout is how long a probe over a cut link waits before it counts
	// as dropped; a healthy link on the bridge answers in microseconds.
	// Default 300 ms.
	CutTimeout time.Duration
	// LossProbes is how many datagrams measure the loss of one link.
	// Default 2000.
	LossProbes int
}

// maxNodes leaves room in the run's /24 for the network, nomosrun's
// address and the broadcast address.
const maxNodes = 250

// Network is one run's namespaces, bridge and faults.
type Network struct {
	opts   Options
	names  names
	subnet netip.Prefix
	hub    netns.NsHandle
	lock   *os.File // flock on the hub namespace: the run is alive
	order  []*nodeNet
	byName map[string]*nodeNet
	self   Endpoint // nomosrun's own namespace, when it reaches the nodes
	// attached networks use namespaces made by others (Attach): Close
	// leaves them.
	attached bool

	mu       sync.Mutex
	faults   map[string]*fault
	forwards []net.Listener // ForwardLoopback's, in the node namespaces
	closed   bool
}

// nodeNet is one node's place in the network: its endpoint and the
// addresses peers reach it by.
type nodeNet struct {
	name    string
	addr    netip.Addr   // where probes reach it
	aliases []netip.Addr // other addresses peers dial it by
	ep      Endpoint
	ns      netns.NsHandle // the namespace Create made for it, or None
	away    bool           // down until Rejoin (Leave); guarded by Network.mu
}

// addrs are every address a cut or loss rule must match for nn.
func (nn *nodeNet) addrs() []netip.Addr { return append([]netip.Addr{nn.addr}, nn.aliases...) }

// createMu serialises subnet choice between runs of this process.
var createMu sync.Mutex

// Create builds a run's network: the hub namespace and bridge, nomosrun's
// veth into it, and one namespace per node with its own address. On error
// nothing of it is left.
func Create(ctx context.Context, opts Options) (*Network, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	id, err := newRunID()
	if err != nil {
		return nil, err
	}
	n := &Network{
		opts: opts, names: names{opts.Prefix, id}, hub: netns.None(),
		byName: map[string]*nodeNet{}, faults: map[string]*fault{},
	}
	if err := n.build(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("create network %s: %w", n.names.run(), err), n.Close())
	}
	return n, nil
}

func (o *Options) check() error {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.CutTimeout <= 0 {
		o.CutTimeout = 300 * time.Millisecond
	}
	if o.LossProbes <= 0 {
		o.LossProbes = 2000
	}
	if !prefixRE.MatchString(o.Prefix) {
		return fmt.Errorf("create network: prefix %q: want lower-case letters, digits and dashes", o.Prefix)
	}
	if len(o.Nodes) == 0 || len(o.Nodes) > maxNodes {
		return fmt.Errorf("create network: %d nodes, want 1 to %d", len(o.Nodes), maxNodes)
	}
	seen := map[string]bool{}
	for _, name := range o.Nodes {
		if !nodeNameRE.MatchString(name) {
			return fmt.Errorf("create network: node name %q: want lower-case letters, digits and dashes", name)
		}
		if name == hubName {
			return fmt.Errorf("create network: node name %q is taken by the bridge's namespace", name)
		}
		if seen[name] {
			return fmt.Errorf("create network: node %q listed twice", name)
		}
		seen[name] = true
	}
	return nil
}

// build creates everything in an order where a kill at any point leaves
// only things Clean finds: the hub first (and its lock), then the root
// veth, which is born inside the hub and moved out once it carries its
// alias, then the nodes.
func (n *Network) build(ctx context.Context) error {
	createMu.Lock()
	defer createMu.Unlock()
	// Other processes pick subnets too: hold the machine-wide lock until
	// this network's route shows, so none picks the same one meanwhile.
	unlock, err := lockSubnets()
	if err != nil {
		return err
	}
	defer unlock()
	subnet, err := PickSubnet()
	if err != nil {
		return err
	}
	n.subnet = subnet
	if err := n.createHub(); err != nil {
		return err
	}
	if err := setupHub(n.hub); err != nil {
		return err
	}
	if err := setupRootLink(n.hub, n.names, n.hostPrefix()); err != nil {
		return err
	}
	unlock()
	n.self = CurrentEndpoint()
	for i, name := range n.opts.Nodes {
		nn := &nodeNet{name: name, ns: netns.None(), addr: n.nth(i + 2)}
		n.order = append(n.order, nn)
		n.byName[name] = nn
	}
	if err := eachNode(n.order, func(nn *nodeNet) error { return n.buildNode(ctx, nn) }); err != nil {
		return err
	}
	return eachNode(n.order, func(nn *nodeNet) error { return n.waitReachable(ctx, nn) })
}

// lockSubnets takes the machine-wide lock of subnet choice (a file lock in
// the temporary directory) and returns its release, which may be called
// more than once.
func lockSubnets() (func(), error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "nomosrun-subnets.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("subnet lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("subnet lock: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }, nil
}

// readyTimeout bounds the wait for a new node's link to carry packets.
const readyTimeout = 5 * time.Second

// waitReachable returns once nomosrun connects to a listener in the node's
// namespace. A new veth drops what it is given until the kernel's link
// watcher has seen its carrier come up, which can take a second; a node
// started before that would lose its first packets, and a probe would
// mistake that for a cut.
func (n *Network) waitReachable(ctx context.Context, nn *nodeNet) error {
	addr, ln, err := nn.ep.ListenTCP(ctx, nn.addr)
	if err != nil {
		return fmt.Errorf("probe listener: %w", err)
	}
	defer ln.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		_, err := n.self.Dial(ctx, addr, 100*time.Millisecond)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("not reachable %v after its link came up: %w", readyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildNode creates a node's namespace and joins it to the bridge.
func (n *Network) buildNode(ctx context.Context, nn *nodeNet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ns, err := newNamedNS(n.names.node(nn.name))
	if err != nil {
		return err
	}
	nn.ns = ns
	nn.ep = &nsEndpoint{ns: ns}
	return setupNode(n.hub, nn.ns, int(nn.addr.As4()[3]), netip.PrefixFrom(nn.addr, n.subnet.Bits()))
}

// createHub creates and locks the hub namespace while holding /run/netns
// shared, so a Clean (which holds it exclusively) never sees a hub that
// exists but is not locked yet.
func (n *Network) createHub() error {
	unlock, err := lockNSDir(unix.LOCK_SH)
	if err != nil {
		return err
	}
	defer unlock()
	if n.hub, err = newNamedNS(n.names.hub()); err != nil {
		return err
	}
	n.lock, err = lockRun(n.names.hub())
	return err
}

// lockNSDir flocks /run/netns (creating it if needed) and returns the
// unlock function.
func lockNSDir(how int) (func(), error) {
	if err := os.MkdirAll(nsDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", nsDir, err)
	}
	f, err := os.Open(nsDir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", nsDir, err)
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", nsDir, err)
	}
	return func() { f.Close() }, nil
}

// nth returns the i-th address of the run's subnet.
func (n *Network) nth(i int) netip.Addr {
	b := n.subnet.Addr().As4()
	b[3] = byte(i)
	return netip.AddrFrom4(b)
}

func (n *Network) hostPrefix() netip.Prefix { return netip.PrefixFrom(n.nth(1), n.subnet.Bits()) }

// lockRun takes an exclusive lock on the hub namespace file. The kernel
// drops it when this process dies, however it dies, which is how Clean
// tells a killed run from a live one.
func lockRun(hub string) (*os.File, error) {
	f, err := os.Open(filepath.Join(nsDir, hub))
	if err != nil {
		return nil, fmt.Errorf("lock run: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock run %s: %w", hub, err)
	}
	return f, nil
}

// Name is the run's name: the prefix and the run id.
func (n *Network) Name() string { return n.names.run() }

// Subnet is the run's private /24.
func (n *Network) Subnet() netip.Prefix { return n.subnet }

// HostAddr is nomosrun's address on the run's bridge.
func (n *Network) HostAddr() netip.Addr { return n.nth(1) }

// Addr returns a node's address.
func (n *Network) Addr(node string) (netip.Addr, error) {
	nn, err := n.node(node)
	if err != nil {
		return netip.Addr{}, err
	}
	return nn.addr, nil
}

// Namespace returns the path of a node's namespace under /run/netns.
func (n *Network) Namespace(node string) (string, error) {
	if _, err := n.node(node); err != nil {
		return "", err
	}
	return filepath.Join(nsDir, n.names.node(node)), nil
}

func (n *Network) node(name string) (*nodeNet, error) {
	nn, ok := n.byName[name]
	if !ok {
		return nil, fmt.Errorf("network %s: unknown node %q", n.names.run(), name)
	}
	return nn, nil
}

// Start starts cmd inside a node's namespace: the process and everything it
// forks see only the node's interface and loopback.
func (n *Network) Start(node string, cmd *exec.Cmd) error {
	nn, err := n.node(node)
	if err != nil {
		return err
	}
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return fmt.Errorf("network %s is closed", n.names.run())
	}
	return inNS(nn.ns, cmd.Start)
}

// Close removes the run's namespaces and nomosrun's veth; the kernel frees
// the bridge, the other veths and the nftables tables with the namespaces
// once no process is left in them. Stop the node processes first. Close is
// safe to call more than once.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	for _, ln := range n.forwards {
		errs = append(errs, ln.Close())
	}
	for _, nn := range n.order {
		if nn.ep != nil {
			errs = append(errs, nn.ep.Close())
		}
	}
	if n.self != nil {
		errs = append(errs, n.self.Close())
	}
	if n.attached {
		return errors.Join(errs...)
	}
	errs = append(errs, deleteRootLink(n.names.rootIf()))
	for _, nn := range n.order {
		errs = append(errs, deleteNS(n.names.node(nn.name), nn.ns))
	}
	errs = append(errs, deleteNS(n.names.hub(), n.hub))
	if n.lock != nil {
		errs = append(errs, n.lock.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close network %s: %w", n.names.run(), err)
	}
	return nil
}

// deleteNS closes the handle and removes the namespace's name; a name that
// does not exist is already removed.
func deleteNS(name string, h netns.NsHandle) error {
	if h.IsOpen() {
		h.Close()
	}
	if err := netns.DeleteNamed(name); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	_ = os.Remove(filepath.Join(nsDir, name))
	return nil
}
