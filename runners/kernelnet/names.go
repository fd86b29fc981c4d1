package kernelnet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// DefaultPrefix starts the name of every namespace nomosrun creates.
const DefaultPrefix = "nomosrun-"

// idLen is the length of a run id in hex digits. Short, because the
// root-side interface name ("nr" + id) must fit in 15 bytes.
const idLen = 6

const (
	hubName    = "hub"  // suffix of the hub namespace
	bridgeName = "br0"  // bridge inside the hub
	nodeIf     = "eth0" // a node's interface inside its namespace
	hostPeer   = "host" // hub end of the root-side veth
)

var (
	nodeNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	prefixRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// newRunID returns a random run id.
func newRunID() (string, error) {
	b := make([]byte, idLen/2)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// names derives every name of one run.
type names struct{ prefix, id string }

func (n names) run() string             { return n.prefix + n.id }
func (n names) hub() string             { return n.run() + "-" + hubName }
func (n names) node(node string) string { return n.run() + "-" + node }
func (n names) rootIf() string          { return "nr" + n.id }

// runOf returns the run part (prefix + id) of a namespace name made by
// names, and whether the name is one.
func runOf(prefix, nsName string) (string, bool) {
	rest, ok := strings.CutPrefix(nsName, prefix)
	if !ok || len(rest) < idLen+2 || rest[idLen] != '-' {
		return "", false
	}
	return prefix + rest[:idLen], true
}

// subnetBases are the /16s runs take their /24 from, in order: private,
// and rarely used whole by Docker (172.17–172.28, 192.168.x) or VPNs; the
// next one serves when a route covers all of the first (a VPN's 10.0.0.0/8).
var subnetBases = []netip.Prefix{
	netip.MustParsePrefix("10.213.0.0/16"),
	netip.MustParsePrefix("172.29.0.0/16"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// ContainerSubnetBases are the /16s other runners take the /24s of their
// own private networks from (PickSubnetFrom): apart from subnetBases, so a
// Docker network whose subnet was picked before the engine created it can
// never take the subnet of a host network made meanwhile, or the reverse.
var ContainerSubnetBases = []netip.Prefix{
	netip.MustParsePrefix("10.214.0.0/16"),
	netip.MustParsePrefix("172.30.0.0/16"),
}

// PickSubnet chooses a /24 inside subnetBases that overlaps no address or
// route of this namespace, starting at a random third octet.
func PickSubnet() (netip.Prefix, error) { return PickSubnetFrom(subnetBases) }

// PickSubnetFrom is PickSubnet within bases. Docker bridges show as
// addresses and routes here, so it avoids the engine's networks too.
func PickSubnetFrom(bases []netip.Prefix) (netip.Prefix, error) {
	used, err := usedPrefixes()
	if err != nil {
		return netip.Prefix{}, err
	}
	var start [1]byte
	if _, err := rand.Read(start[:]); err != nil {
		return netip.Prefix{}, fmt.Errorf("pick a subnet: %w", err)
	}
	if p, ok := freeSubnet(bases, used, start[0]); ok {
		return p, nil
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 in %v: every one overlaps an address or route of this machine", bases)
}

// freeSubnet returns the first /24 of bases, from third octet start on,
// that overlaps none of used.
func freeSubnet(bases, used []netip.Prefix, start byte) (netip.Prefix, bool) {
	for _, base := range bases {
		b := base.Addr().As4()
		for i := range 256 {
			b[2] = start + byte(i)
			p := netip.PrefixFrom(netip.AddrFrom4(b), 24)
			if !overlapsAny(p, used) {
				return p, true
			}
		}
	}
	return netip.Prefix{}, false
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if p.Overlaps(u) {
			return true
		}
	}
	return false
}

// usedPrefixes lists the IPv4 prefixes of this namespace's addresses and of
// its routes in every table, except default routes.
func usedPrefixes() ([]netip.Prefix, error) {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := toPrefix(a.IPNet.IP, a.IPNet.Mask); ok {
			out = append(out, p)
		}
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if p, ok := toPrefix(r.Dst.IP, r.Dst.Mask); ok && p.Bits() > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

func toPrefix(ip net.IP, mask net.IPMask) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(ip)
	ones, bits := mask.Size()
	if !ok || bits == 0 {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	if a.Is4() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(a, ones).Masked(), true
}
