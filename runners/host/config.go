package host

import (
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// ConfigSpec is what a config generator needs to write one deploy's node
// configs. Slices are in topology order.
type ConfigSpec struct {
	Plan       *plan.Plan
	ChainStart time.Time
	// Ports are each node's ports.
	Ports []Ports
	// Hosts are each node's address: it listens there and peers dial
	// Hosts[i]:Ports[i].P2P (127.0.0.1 on loopback).
	Hosts []string
	// ConfigDir is where the config files go (one directory per node).
	ConfigDir string
	// DataDirs are the nodes' data directories (also their working directories).
	DataDirs []string
	// LogDir is the directory NOMOS_LOG_DIR points at.
	LogDir string
}

// ConfigWriter writes every node's config files and returns each node's
// arguments (after the command), in topology order.
type ConfigWriter func(spec ConfigSpec) ([][]string, error)
