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
// network where containers cannot reach each other, so Isolate can cut a
// node off its peers by disconnecting it from the first one.
//
// The Compose CLI ("docker compose", else docker-compose) brings projects up
// and down; everything else (inspection, logs, node control, cleanup) uses
// the Docker API with version negotiation.
package compose
