// Package agent carries kernelnet's Endpoint over HTTP, for namespaces
// nomosrun cannot enter itself: a pod's on a Kubernetes node. The Server
// runs inside the namespace (a helper container with CAP_NET_ADMIN beside
// the node, started as "<node binary> netagent") and does the work with
// kernelnet's own code; the Client is the Endpoint nomosrun hands to
// kernelnet.Attach, reaching the server through a port-forward.
package agent

import (
	"net/netip"
	"time"
)

// Command is the hidden subcommand of the node binaries (the reference
// node and nomosrun) that runs the server.
const Command = "netagent"

// Port is where the server listens inside the namespace.
const Port = 18090

// The wire types of the server's API: JSON bodies of POST requests.
type (
	dropsReq struct {
		ID    string      `json:"id"`
		Drops []dropEntry `json:"drops"`
	}
	dropEntry struct {
		Out     bool       `json:"out"`
		Peer    netip.Addr `json:"peer"`
		Percent int        `json:"percent"`
	}
	delayReq struct {
		Addr   netip.Addr    `json:"addr"`
		Delay  time.Duration `json:"delay"`
		Jitter time.Duration `json:"jitter"`
	}
	dialReq struct {
		To      netip.AddrPort `json:"to"`
		Timeout time.Duration  `json:"timeout"`
	}
	dialResp struct {
		RTT     time.Duration `json:"rtt"`
		Error   string        `json:"error,omitempty"`
		Timeout bool          `json:"timeout,omitempty"`
	}
	listenReq struct {
		Addr netip.Addr `json:"addr"`
	}
	listenResp struct {
		ID   string         `json:"id"`
		Addr netip.AddrPort `json:"addr"`
	}
	countReq struct {
		ID    string  `json:"id"`
		Tag   [8]byte `json:"tag"`
		Count int     `json:"count"`
	}
	countResp struct {
		Count int `json:"count"`
	}
	sendReq struct {
		To    netip.AddrPort `json:"to"`
		Tag   [8]byte        `json:"tag"`
		Count int            `json:"count"`
	}
	closeReq struct {
		ID string `json:"id"`
	}
	errResp struct {
		Error string `json:"error"`
		// NoNetem marks kernelnet.ErrNoNetem, so the client can wrap it.
		NoNetem bool `json:"no_netem,omitempty"`
	}
)
