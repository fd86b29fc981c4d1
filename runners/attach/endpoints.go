package attach

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// File is the endpoints file's name in a run directory.
const File = "endpoints.json"

// Endpoints describes a running network: what `nomosrun up` writes next to
// the cluster it keeps up, and what the attach runner reads. Only Nodes is
// needed to attach; a hand-written file for a devnet may hold nothing else.
type Endpoints struct {
	Scenario string `json:"scenario,omitempty"`
	Runner   string `json:"runner,omitempty"`
	// PID is the `nomosrun up` process; SIGTERM to it tears the cluster down.
	PID int `json:"pid,omitempty"`
	// Executable is that process's binary, so `nomosrun down` never signals
	// an unrelated process that reused the pid.
	Executable string    `json:"executable,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	RunDir     string    `json:"run_dir,omitempty"`
	// Kind is the nodes' kind (package nodekind); empty is the reference
	// node.
	Kind  string `json:"node,omitempty"`
	Nodes []Node `json:"nodes"`
}

// Node is one node of a running network.
type Node struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// API is the node's HTTP API base URL.
	API string `json:"api"`
	// TestingAPI is its testing API (fault hooks), when it has one; for a
	// node kind without one, its second endpoint (CometBFT: Prometheus).
	TestingAPI string `json:"testing_api,omitempty"`
	// Container names the Docker container running the node, on the engine
	// DOCKER_HOST names: the attach runner then restarts, kills, stops,
	// pauses the node and reads its logs through the engine.
	Container string `json:"container,omitempty"`
}

// Controlled reports whether every node names its container, so an
// attached run may control them.
func (ep *Endpoints) Controlled() bool {
	for _, n := range ep.Nodes {
		if n.Container == "" {
			return false
		}
	}
	return len(ep.Nodes) > 0
}

// Write writes dir/endpoints.json atomically, so a reader never sees half a
// file.
func Write(dir string, ep *Endpoints) error {
	b, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", File, err)
	}
	tmp, err := os.CreateTemp(dir, File+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", File, err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", File, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, File)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", File, err)
	}
	return nil
}

// Read reads an endpoints file, given as its path or as the run directory
// holding it, with errors that say what to do.
func Read(path string) (*Endpoints, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("endpoints %s: %w", path, errors.Unwrap(err))
	}
	if fi.IsDir() {
		path = filepath.Join(path, File)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s in %s: no cluster is up from this directory (never brought up, or already down)", File, filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var ep Endpoints
	if err := json.Unmarshal(b, &ep); err != nil {
		return nil, fmt.Errorf("%s is not an endpoints file: %w", path, err)
	}
	return &ep, nil
}
