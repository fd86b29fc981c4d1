package host

import (
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// telemetryVars hold the OTLP endpoints the nodes export to.
var telemetryVars = []env.Var{env.OTLPEndpoint, env.OTLPMetricsEndpoint, env.MetricsOTLPIngestURL}

// forwardTelemetry makes the loopback OTLP endpoints the nodes are given
// reachable from their namespaces, where 127.0.0.1 is the node's own. A
// failure only costs the nodes' telemetry, so it is a warning.
func forwardTelemetry(net *kernelnet.Network, log *slog.Logger) {
	for _, target := range loopbackEndpoints(telemetryVars) {
		if p := int(target.Port()); p == netnsPorts.API || p == netnsPorts.Testing || p == netnsPorts.P2P {
			log.Warn("the nodes cannot reach the OTLP endpoint: its port is one of the node's own in its namespace", "endpoint", target)
			continue
		}
		if err := net.ForwardLoopback(target); err != nil {
			log.Warn("the nodes cannot reach the OTLP endpoint", "endpoint", target, "err", err)
			continue
		}
		log.Info("OTLP endpoint forwarded into the node namespaces", "endpoint", target)
	}
}

// loopbackEndpoints are the distinct loopback host:ports that the set
// variables name ("localhost" counts as 127.0.0.1); others are reached
// through the bridge as they are.
func loopbackEndpoints(vars []env.Var) []netip.AddrPort {
	var out []netip.AddrPort
	for _, v := range vars {
		s := v.Get()
		if s == "" {
			continue
		}
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			continue // the node reports a bad endpoint itself
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = map[string]string{"https": "443"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		if host == "localhost" {
			host = "127.0.0.1"
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.IsLoopback() {
			continue
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			continue
		}
		ap := netip.AddrPortFrom(addr, uint16(p))
		if !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}
