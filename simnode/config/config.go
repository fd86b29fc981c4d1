// Package config is the reference node's configuration: the YAML file of one
// node (keys follow the Nomos node config where one exists), loading with
// errors that name the key, and the runner-agnostic generator of a whole
// cluster's configs.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Roles of a node.
const (
	RoleValidator = "validator"
	RoleExecutor  = "executor"
)

// NodeConfig is one node's YAML config.
type NodeConfig struct {
	Node        NodeSection        `yaml:"node"`
	Network     NetworkSection     `yaml:"network"`
	HTTP        HTTPSection        `yaml:"http"`
	TestingHTTP HTTPSection        `yaml:"testing_http"`
	Deployment  DeploymentSection  `yaml:"deployment"`
	Time        TimeSection        `yaml:"time"`
	Cryptarchia CryptarchiaSection `yaml:"cryptarchia"`
	Storage     StorageSection     `yaml:"storage"`
	DANetwork   DANetworkSection   `yaml:"da_network"`
	DASampling  DASamplingSection  `yaml:"da_sampling"`
	Testing     TestingSection     `yaml:"testing,omitempty"`
}

// TestingSection holds test-only switches of the reference node (no Nomos
// equivalent); all off by default and left out of generated configs.
type TestingSection struct {
	// RejoinBelowLIB makes an Online node that sees a chain forking below
	// its LIB and at least 2 blocks longer re-enter Bootstrapping and
	// follow it: a convenience that moves the LIB back, which a real node
	// never does and a safety checker reports.
	RejoinBelowLIB bool `yaml:"rejoin_below_lib,omitempty"`
}

// NodeSection names the node and lists the cluster (reference node only).
type NodeSection struct {
	Name    string        `yaml:"name"`
	Role    string        `yaml:"role"`
	Index   int           `yaml:"index"`
	Cluster []ClusterPeer `yaml:"cluster"`
}

// ClusterPeer is one node of the cluster as every node knows it.
type ClusterPeer struct {
	Name   string `yaml:"name"`
	PeerID string `yaml:"peer_id"`
	Addr   string `yaml:"addr"` // multiaddr peers dial
}

// NetworkSection is network.backend.
type NetworkSection struct {
	Backend struct {
		Swarm struct {
			Host    string `yaml:"host"`
			Port    int    `yaml:"port"`
			NodeKey string `yaml:"node_key"`
		} `yaml:"swarm"`
		InitialPeers []string `yaml:"initial_peers"`
	} `yaml:"backend"`
}

// HTTPSection is http / testing_http.
type HTTPSection struct {
	BackendSettings struct {
		Address string `yaml:"address"`
	} `yaml:"backend_settings"`
}

// DeploymentSection is the custom deployment map.
type DeploymentSection struct {
	Cryptarchia struct {
		ConsensusConfig struct {
			SecurityParam   int     `yaml:"security_param"`
			ActiveSlotCoeff float64 `yaml:"active_slot_coeff"`
		} `yaml:"consensus_config"`
		GossipsubProtocol string `yaml:"gossipsub_protocol"`
	} `yaml:"cryptarchia"`
	Time struct {
		SlotDuration Duration `yaml:"slot_duration"`
	} `yaml:"time"`
	Mempool struct {
		PubsubTopic string `yaml:"pubsub_topic"`
	} `yaml:"mempool"`
}

// TimeSection is time.
type TimeSection struct {
	ChainStartTime OffsetDateTime `yaml:"chain_start_time"`
}

// CryptarchiaSection is cryptarchia.
type CryptarchiaSection struct {
	Leader struct {
		PK string `yaml:"pk"`
		SK string `yaml:"sk"` // Ed25519 seed, 64 hex
	} `yaml:"leader"`
	Service struct {
		StartingState struct {
			Genesis Genesis `yaml:"genesis"`
		} `yaml:"starting_state"`
		Bootstrap struct {
			ProlongedBootstrapPeriod Duration `yaml:"prolonged_bootstrap_period"`
		} `yaml:"bootstrap"`
	} `yaml:"service"`
}

// Genesis is the initial state: leader stake notes and wallet notes.
type Genesis struct {
	Leaders []GenesisNote `yaml:"leaders"`
	Notes   []GenesisNote `yaml:"notes"`
}

// GenesisNote is one genesis output.
type GenesisNote struct {
	PK    string `yaml:"pk"`
	Value uint64 `yaml:"value"`
}

// StorageSection is storage.
type StorageSection struct {
	DBPath string `yaml:"db_path"`
}

// DANetworkSection is da_network.backend.
type DANetworkSection struct {
	Backend struct {
		NumSubnets int `yaml:"num_subnets"`
	} `yaml:"backend"`
}

// DASamplingSection is da_sampling.
type DASamplingSection struct {
	ShareVerifierSettings struct {
		GlobalParamsPath string `yaml:"global_params_path"`
	} `yaml:"share_verifier_settings"`
}

// Duration is a [secs, nanos] tuple in YAML.
type Duration time.Duration

// MarshalYAML encodes [secs, nanos].
func (d Duration) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range []int64{int64(time.Duration(d) / time.Second), int64(time.Duration(d) % time.Second)} {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(v)})
	}
	return n, nil
}

// UnmarshalYAML decodes [secs, nanos].
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var v []int64
	if err := n.Decode(&v); err != nil || len(v) != 2 || v[0] < 0 || v[1] < 0 || v[1] >= 1e9 {
		return fmt.Errorf("line %d: want [secs, nanos]", n.Line)
	}
	*d = Duration(time.Duration(v[0])*time.Second + time.Duration(v[1]))
	return nil
}

// OffsetDateTime is a UTC time as the Nomos tuple [year, ordinal, hour,
// minute, second, nanosecond, 0, 0, 0].
type OffsetDateTime time.Time

// MarshalYAML encodes the tuple.
func (t OffsetDateTime) MarshalYAML() (any, error) {
	u := time.Time(t).UTC()
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range []int{u.Year(), u.YearDay(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), 0, 0, 0} {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(v)})
	}
	return n, nil
}

// UnmarshalYAML decodes the tuple.
func (t *OffsetDateTime) UnmarshalYAML(n *yaml.Node) error {
	var v []int
	if err := n.Decode(&v); err != nil || len(v) != 9 {
		return fmt.Errorf("line %d: want [year, ordinal, h, m, s, ns, off_h, off_m, off_s]", n.Line)
	}
	u := time.Date(v[0], 1, 1, v[2], v[3], v[4], v[5], time.UTC).AddDate(0, 0, v[1]-1)
	off := time.Duration(v[6])*time.Hour + time.Duration(v[7])*time.Minute + time.Duration(v[8])*time.Second
	*t = OffsetDateTime(u.Add(-off))
	return nil
}

// Marshal encodes cfg as the YAML a node reads.
func Marshal(cfg *NodeConfig) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}

// Write stores cfg as YAML at path.
func Write(path string, cfg *NodeConfig) error {
	b, err := Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Load reads and checks the config at path.
func Load(path string) (*NodeConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b)
}

// Parse decodes and checks a YAML config; unknown keys are errors.
func Parse(b []byte) (*NodeConfig, error) {
	var cfg NodeConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Check reports the first missing or bad key.
func (c *NodeConfig) Check() error {
	bad := func(key, why string) error { return fmt.Errorf("config key %s: %s", key, why) }
	f := c.Deployment.Cryptarchia.ConsensusConfig.ActiveSlotCoeff
	switch {
	case c.Node.Name == "":
		return bad("node.name", "missing")
	case c.Node.Role != RoleValidator && c.Node.Role != RoleExecutor:
		return bad("node.role", fmt.Sprintf("%q is not validator or executor", c.Node.Role))
	case c.HTTP.BackendSettings.Address == "":
		return bad("http.backend_settings.address", "missing")
	case c.Network.Backend.Swarm.Port < 0 || c.Network.Backend.Swarm.Port > 65535:
		return bad("network.backend.swarm.port", "out of range")
	case len(c.Network.Backend.Swarm.NodeKey) != 64:
		return bad("network.backend.swarm.node_key", "want 64 hex digits")
	case c.Deployment.Time.SlotDuration < Duration(10*time.Millisecond):
		return bad("deployment.time.slot_duration", "missing or below 10ms")
	case c.Deployment.Cryptarchia.ConsensusConfig.SecurityParam < 1:
		return bad("deployment.cryptarchia.consensus_config.security_param", "want >= 1")
	case !(f > 0 && f < 1):
		return bad("deployment.cryptarchia.consensus_config.active_slot_coeff", "want 0 < f < 1")
	case time.Time(c.Time.ChainStartTime).IsZero():
		return bad("time.chain_start_time", "missing")
	case len(c.Cryptarchia.Leader.SK) != 64:
		return bad("cryptarchia.leader.sk", "want 64 hex digits")
	case len(c.Cryptarchia.Service.StartingState.Genesis.Leaders) == 0:
		return bad("cryptarchia.service.starting_state.genesis.leaders", "missing")
	case c.Storage.DBPath == "":
		return bad("storage.db_path", "missing")
	}
	for i, l := range c.Cryptarchia.Service.StartingState.Genesis.Leaders {
		if len(l.PK) != 64 || l.Value == 0 {
			return bad(fmt.Sprintf("cryptarchia.service.starting_state.genesis.leaders[%d]", i), "want pk (64 hex) and value > 0")
		}
	}
	return nil
}

// ErrBadSpec is wrapped by every Generate error.
var ErrBadSpec = errors.New("bad cluster spec")
