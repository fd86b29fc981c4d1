package cometbft

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/nodekind"
)

// Files of a node's home directory (the config directory), as CometBFT's
// own "init" lays them out.
const (
	configFile    = "config/config.toml"
	genesisFile   = "config/genesis.json"
	nodeKeyFile   = "config/node_key.json"
	privValFile   = "config/priv_validator_key.json"
	privStateFile = "data/priv_validator_state.json"
)

// votingPower is every validator's power: all equal, so any 2/3 + 1 of
// them commit.
const votingPower = 10

// ChainID is the chain id of a plan's network.
func ChainID(p *plan.Plan) string { return fmt.Sprintf("nomosrun-%d", uint64(p.Seed)) }

// Keys are a node's two identities, derived from the plan's seed so ids
// are known before any node starts: its p2p node key and its validator key.
type Keys struct {
	Node, Validator ed25519.PrivateKey
}

// KeysOf returns the keys of the named node under the plan's seed.
func KeysOf(p *plan.Plan, node string) Keys {
	seed := uint64(p.Seed)
	return Keys{Node: txcodec.DeriveKey(seed, "cometbft-node", node), Validator: txcodec.DeriveKey(seed, "cometbft-validator", node)}
}

// address is CometBFT's address of an Ed25519 public key: the first 20
// bytes of its SHA-256.
func address(k ed25519.PrivateKey) []byte {
	sum := sha256.Sum256(k.Public().(ed25519.PublicKey))
	return sum[:20]
}

// NodeID is the p2p id peers dial (lower-case hex of the node key's
// address).
func (k Keys) NodeID() string { return hex.EncodeToString(address(k.Node)) }

// render makes every node's home: keys, the shared genesis and config.toml.
func render(s nodekind.RenderSpec) ([]nodekind.Launch, error) {
	p := s.Plan
	nodes := p.Topology.Nodes
	places := make([]nodekind.Placement, len(nodes))
	keys := make([]Keys, len(nodes))
	for i, n := range nodes {
		places[i], keys[i] = s.Place(i, n), KeysOf(p, n.Name)
	}
	genesis, err := genesisDoc(p, s.ChainStart, keys)
	if err != nil {
		return nil, err
	}
	out := make([]nodekind.Launch, len(nodes))
	for i, n := range nodes {
		var peers []string
		for _, j := range p.Topology.Dials(i) {
			peers = append(peers, keys[j].NodeID()+"@"+places[j].P2PDial)
		}
		cfg, err := toml.Marshal(nodeConfig(p, n.Name, places[i], peers))
		if err != nil {
			return nil, fmt.Errorf("config of %s: %w", n.Name, err)
		}
		nodeKey, _ := json.Marshal(map[string]any{"priv_key": privKeyJSON(keys[i].Node)})
		privVal, _ := json.MarshalIndent(map[string]any{
			"address":  strings.ToUpper(hex.EncodeToString(address(keys[i].Validator))),
			"pub_key":  pubKeyJSON(keys[i].Validator),
			"priv_key": privKeyJSON(keys[i].Validator),
		}, "", "  ")
		out[i] = nodekind.Launch{
			Files: map[string][]byte{
				configFile: cfg, genesisFile: genesis, nodeKeyFile: nodeKey, privValFile: privVal,
				privStateFile: []byte(`{"height": "0", "round": 0, "step": 0}` + "\n"),
			},
			Args:           []string{"start", "--home", places[i].ConfigDir},
			WritableConfig: true,
		}
	}
	return out, nil
}

// genesisDoc is the network's genesis: every validator with equal power,
// the chain starting at the run's chain start. Consensus parameters are
// CometBFT's defaults.
func genesisDoc(p *plan.Plan, start time.Time, keys []Keys) ([]byte, error) {
	type validator struct {
		Address string         `json:"address"`
		PubKey  map[string]any `json:"pub_key"`
		Power   string         `json:"power"`
		Name    string         `json:"name"`
	}
	var vals []validator
	for i, n := range p.Topology.Nodes {
		vals = append(vals, validator{
			Address: strings.ToUpper(hex.EncodeToString(address(keys[i].Validator))),
			PubKey:  pubKeyJSON(keys[i].Validator), Power: strconv.Itoa(votingPower), Name: n.Name,
		})
	}
	return json.MarshalIndent(map[string]any{
		"genesis_time":   start.UTC().Format(time.RFC3339Nano),
		"chain_id":       ChainID(p),
		"initial_height": "1",
		"validators":     vals,
		"app_hash":       "",
	}, "", "  ")
}

func pubKeyJSON(k ed25519.PrivateKey) map[string]any {
	return map[string]any{"type": "tendermint/PubKeyEd25519", "value": []byte(k.Public().(ed25519.PublicKey))}
}

func privKeyJSON(k ed25519.PrivateKey) map[string]any {
	return map[string]any{"type": "tendermint/PrivKeyEd25519", "value": []byte(k)}
}

// config is the part of CometBFT's config.toml nomosrun sets; CometBFT
// fills every other key with its default.
type config struct {
	ProxyApp               string `toml:"proxy_app"`
	Moniker                string `toml:"moniker"`
	DBBackend              string `toml:"db_backend"`
	DBDir                  string `toml:"db_dir"`
	LogLevel               string `toml:"log_level"`
	LogFormat              string `toml:"log_format"`
	Genesis                string `toml:"genesis_file"`
	PrivValidatorKeyFile   string `toml:"priv_validator_key_file"`
	PrivValidatorStateFile string `toml:"priv_validator_state_file"`
	NodeKeyFile            string `toml:"node_key_file"`

	RPC struct {
		ListenAddress string `toml:"laddr"`
	} `toml:"rpc"`
	P2P struct {
		ListenAddress   string `toml:"laddr"`
		ExternalAddress string `toml:"external_address"`
		PersistentPeers string `toml:"persistent_peers"`
		PEX             bool   `toml:"pex"`
		AddrBookStrict  bool   `toml:"addr_book_strict"`
		AllowDuplicate  bool   `toml:"allow_duplicate_ip"`
	} `toml:"p2p"`
	Consensus struct {
		TimeoutPropose string `toml:"timeout_propose"`
		TimeoutCommit  string `toml:"timeout_commit"`
	} `toml:"consensus"`
	TxIndex struct {
		Indexer string `toml:"indexer"`
	} `toml:"tx_index"`
	Instrumentation struct {
		Prometheus    bool   `toml:"prometheus"`
		ListenAddress string `toml:"prometheus_listen_addr"`
		Namespace     string `toml:"namespace"`
	} `toml:"instrumentation"`
}

// nodeConfig is one node's config.toml: the built-in kvstore application,
// RPC at the placement's API address, Prometheus at its Aux address, the
// layout's peers as persistent peers (peer exchange finds the rest, as in
// a real network), and a block at least every slot: a block takes
// timeout_commit plus its consensus rounds, which take longer the busier
// the machine, so timeout_commit is half the slot. A round whose proposer
// is down (restarted, killed, cut off) waits timeout_propose before the
// next proposer's turn: one slot, not CometBFT's default 3 s, so a fault
// costs about a block, as it does on the reference node.
func nodeConfig(p *plan.Plan, name string, at nodekind.Placement, peers []string) config {
	var c config
	c.ProxyApp, c.Moniker = "kvstore", name
	c.DBBackend, c.DBDir = "goleveldb", at.DataDir
	c.LogLevel, c.LogFormat = "info", "plain"
	c.Genesis, c.PrivValidatorKeyFile, c.NodeKeyFile = genesisFile, privValFile, nodeKeyFile
	c.PrivValidatorStateFile = privStateFile
	c.RPC.ListenAddress = "tcp://" + at.API
	c.P2P.ListenAddress = "tcp://" + at.P2PListen
	c.P2P.ExternalAddress = at.P2PDial
	c.P2P.PersistentPeers = strings.Join(peers, ",")
	// Peers dial private addresses (loopback, a bridge), and on the host
	// several nodes share one address.
	c.P2P.PEX, c.P2P.AddrBookStrict, c.P2P.AllowDuplicate = true, false, true
	c.Consensus.TimeoutCommit = (p.Topology.Slot.Std() / 2).String()
	c.Consensus.TimeoutPropose = p.Topology.Slot.Std().String()
	c.TxIndex.Indexer = "kv"
	c.Instrumentation.Prometheus = true
	c.Instrumentation.ListenAddress = at.Aux
	c.Instrumentation.Namespace = MetricNamespace
	return c
}
