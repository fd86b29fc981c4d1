// Package kernelnet gives each node of a run its own Linux network namespace
// on a private bridge, and applies network faults to them in the kernel,
// outside the node processes.
//
// Layout of one run (id is a short random hex string, prefix defaults to
// "nomosrun-"):
//
//	<prefix><id>-hub     namespace holding bridge "br0"
//	<prefix><id>-<node>  one namespace per node, interface "eth0" with the
//	                     node's address, joined to br0 by a veth pair
//	nr<id>               the only interface in nomosrun's own namespace: a
//	                     veth to br0 with the first address of the run's
//	                     private /24, so nomosrun reaches the nodes
//
// Bridging and routing happen in the hub namespace, never in the host's: the
// host's firewall (for example a FORWARD policy of DROP set by Docker) does
// not see the run's traffic, and the run changes none of the host's settings.
// The root-side veth carries the hub's name as its alias, and a live run
// holds a lock on its hub namespace, so Clean can tell the leftovers of a
// killed run from a run that is still going.
//
// Faults are keyed by an id, so overlapping faults coexist and heal
// independently. Cuts and loss are nftables rules in table "ip nomosrun" of
// the nodes' namespaces; delay and jitter are a netem qdisc on the node's
// interface, where the kernel has sch_netem (detected when the fault is
// applied). Every fault is verified by probes from inside the namespaces
// once applied and again once healed; each call returns a Report of what
// was measured, and a *VerifyError carrying it when the probes disagree
// (the fault then stays applied until healed).
package kernelnet
