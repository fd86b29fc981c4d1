// Package compose runs a plan's nodes as containers of one Docker Compose
// project per run, from the node image of package nodeimage.
//
// Deploy writes into the run directory:
//
//	RunDir/configs/<node>/node.yaml   generated config, mounted read-only at /config
//	RunDir/docker-compose.yml         the project, brought up with the Compose CLI
//	RunDir/logs/<node>.log            container output, copied at teardown
//
// Every container, network and volume carries the label io.nomosrun.run with
// the run id (the project name), so Teardown, and Clean for earlier runs,
// find them. Nodes talk on an internal network under the alias p2p-<node>;
// their API ports are published on COMPOSE_RUNNER_HOST through a second
// network where containers cannot reach each other, so cutting a node off
// its peers leaves its API reachable.
//
// Network faults are nftables rules (and netem qdiscs) in each container's
// own network namespace, applied and verified by package kernelnet, when
// nomosrun may enter those namespaces (a local engine, CAP_NET_ADMIN and
// CAP_SYS_ADMIN). Otherwise Isolate disconnects a node from the internal
// network, and the other network faults go through the node's fault hooks.
//
// The Compose CLI ("docker compose", else docker-compose) brings projects up
// and down; everything else (inspection, logs, node control, cleanup) uses
// the Docker API with version negotiation.
package compose
