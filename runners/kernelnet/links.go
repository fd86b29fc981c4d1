package kernelnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// handleAt opens a netlink handle bound to ns; no thread switching needed.
// A closed handle (netns.None) means this process's own namespace.
func handleAt(ns netns.NsHandle) (*netlink.Handle, error) {
	// Only the route family: links, addresses and qdiscs are all there, and
	// asking for every family would need the xfrm module loaded too.
	var h *netlink.Handle
	var err error
	if ns.IsOpen() {
		h, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("netlink handle: %w", err)
	}
	return h, nil
}

// setupHub brings up loopback and the bridge in the hub namespace.
func setupHub(hub netns.NsHandle) error {
	h, err := handleAt(hub)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := linkUp(h, "lo"); err != nil {
		return err
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeName}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge %s: %w", bridgeName, err)
	}
	return linkUp(h, bridgeName)
}

// setupRootLink gives nomosrun a leg on the bridge. The veth pair is made
// inside the hub and its root end gets the hub's name as alias before it
// moves to nomosrun's namespace, so it never exists there unlabelled.
func setupRootLink(hub netns.NsHandle, nm names, addr netip.Prefix) error {
	h, err := handleAt(hub)
	if err != nil {
		return err
	}
	defer h.Close()
	root, err := netns.GetFromPath("/proc/self/ns/net")
	if err != nil {
		return fmt.Errorf("open nomosrun's namespace: %w", err)
	}
	defer root.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nm.rootIf()}, PeerName: hostPeer}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", nm.rootIf(), err)
	}
	if err := h.LinkSetAlias(veth, nm.hub()); err != nil {
		return fmt.Errorf("label veth %s: %w", nm.rootIf(), err)
	}
	if err := h.LinkSetNsFd(veth, int(root)); err != nil {
		return fmt.Errorf("move veth %s to nomosrun's namespace: %w", nm.rootIf(), err)
	}
	if err := joinBridge(h, hostPeer); err != nil {
		return err
	}
	rh, err := handleAt(root)
	if err != nil {
		return err
	}
	defer rh.Close()
	return addrUp(rh, nm.rootIf(), addr)
}

// setupNode joins a node's namespace to the bridge: a veth "eth0" in the
// node with its address, peer "n<i>" on the bridge.
func setupNode(hub, node netns.NsHandle, i int, addr netip.Prefix) error {
	h, err := handleAt(hub)
	if err != nil {
		return err
	}
	defer h.Close()
	peer := "n" + strconv.Itoa(i)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: peer}, PeerName: nodeIf, PeerNamespace: netlink.NsFd(int(node))}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", peer, err)
	}
	if err := joinBridge(h, peer); err != nil {
		return err
	}
	nh, err := handleAt(node)
	if err != nil {
		return err
	}
	defer nh.Close()
	if err := linkUp(nh, "lo"); err != nil {
		return err
	}
	return addrUp(nh, nodeIf, addr)
}

// joinBridge enslaves a hub interface to the bridge and brings it up.
func joinBridge(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	br, err := h.LinkByName(bridgeName)
	if err != nil {
		return fmt.Errorf("find %s: %w", bridgeName, err)
	}
	if err := h.LinkSetMaster(l, br); err != nil {
		return fmt.Errorf("attach %s to %s: %w", name, bridgeName, err)
	}
	return linkUp(h, name)
}

func linkUp(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", name, err)
	}
	return nil
}

// addrUp assigns addr to the interface and brings it up.
func addrUp(h *netlink.Handle, name string, addr netip.Prefix) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	ipn := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("address %s on %s: %w", addr, name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up %s: %w", name, err)
	}
	return nil
}

// deleteRootLink removes nomosrun's veth of a run; its absence is fine.
func deleteRootLink(name string) error {
	l, err := netlink.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
