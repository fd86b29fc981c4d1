// Package nodekind holds everything nomosrun knows about one node
// implementation behind one interface, Kind: how to launch it, how to render
// its configuration and genesis from a topology, how the engine reads it and
// submits to it, and which scenario builtins it can serve.
//
// The engine, the workloads, the expectations and the runners talk to a
// node only through its kind. A kind is one package that calls Register
// from init (nodekind/reference, the default, and nodekind/cometbft);
// docs/node-kinds.md explains how to add one. A scenario picks its kind with
// topology(node="name").
package nodekind

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// Kind is one node implementation.
type Kind interface {
	// Name is the kind's name in topology(node=...).
	Name() string
	// Doc is a one-line description for help texts.
	Doc() string
	// Check refuses what the kind cannot serve (DA without DA, executors,
	// faults through hooks the node does not have), as an error naming
	// the kind, the scenario position and the fix.
	Check(p *plan.Plan) error
	// Render makes every node's configuration, keys and genesis for a
	// deploy, in topology order.
	Render(s RenderSpec) ([]Launch, error)
	// Program says how runners start the node.
	Program() Program
	// Client is the engine's client of a deployed node, reached at its
	// two HTTP base URLs (Placement.API and Placement.Aux).
	Client(api, aux string) nodeclient.Client
	// Codec builds the kind's transactions for a run, once the chain's
	// first block is known.
	Codec(p *plan.Plan, genesis *nodeapi.Block) (nodeclient.Codec, error)
}

// Ports every node of a container runner listens on inside its container or
// pod, where each node has an address of its own. Host runs choose free
// ports instead.
const (
	ContainerAPIPort = 8080
	ContainerAuxPort = 8081
	ContainerP2PPort = 3000
)

// Placement is where one node runs, as its runner chose it. Addresses are
// host:port.
type Placement struct {
	// API is the node's main HTTP API listen address.
	API string
	// Aux is its second HTTP listen address: the testing API of the
	// reference node, the Prometheus endpoint of a CometBFT node.
	Aux string
	// P2PListen is where the node listens for peers; P2PDial is the
	// address its peers dial.
	P2PListen, P2PDial string
	// ConfigDir is the node's configuration directory as the node sees it:
	// the runner puts Launch.Files there.
	ConfigDir string
	// DataDir is the node's database directory as the node sees it.
	DataDir string
}

// RenderSpec is what Render needs besides the plan.
type RenderSpec struct {
	Plan       *plan.Plan
	ChainStart time.Time
	// KZGParamsPath is the DA parameter file as the nodes see it; empty
	// means the node's default. Kinds without DA ignore it.
	KZGParamsPath string
	// Place returns where the i-th node of the topology runs.
	Place func(i int, n plan.Node) Placement
}

// Launch is one node's rendered start: the files its runner writes into
// Placement.ConfigDir before the first start, and the arguments after the
// program.
type Launch struct {
	// Files maps a path relative to the config directory to its contents.
	Files map[string][]byte
	// Args follow the program on the command line.
	Args []string
	// WritableConfig says the node writes into its config directory (a
	// CometBFT home holds the validator's last-signed state), so a
	// container runner must not mount it read-only.
	WritableConfig bool
}

// WriteFiles writes the launch's files under dir, as the node's runner
// lays out its config directory on this machine, with mode perm.
func (l Launch) WriteFiles(dir string, perm os.FileMode) error {
	for name, body := range l.Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, body, perm); err != nil {
			return err
		}
	}
	return nil
}

// Program is how runners start a kind's node.
type Program struct {
	// Host finds the command of a node of role on this machine (host
	// runner), honouring the plan's node_binary and the kind's
	// environment variables; the error says how to get one.
	Host func(ctx context.Context, p *plan.Plan, role plan.Role) ([]string, error)
	// Image is the container image of compose and Kubernetes nodes when
	// the plan names none (topology(image=...)).
	Image string
	// ImageBinary finds the static program nomosrun puts in Image when it
	// builds the image (package nodeimage) and says its version; nil for
	// the reference node, whose image holds nomosrun's own node.
	ImageBinary func() (path, version string, err error)
}

// ImageOf is the image of a plan's container nodes: topology(image=...),
// else the runner's image for the reference node (reference: from
// NOMOS_TESTNET_IMAGE or versions.env), else the kind's own.
func ImageOf(topo plan.Topology, kind Kind, reference string) string {
	switch {
	case topo.Image != "":
		return topo.Image
	case kind.Name() == Default:
		return reference
	}
	return kind.Program().Image
}
