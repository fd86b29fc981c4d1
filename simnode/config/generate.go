package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// Network layouts of ClusterSpec.Network.
const (
	LayoutStar  = "star"  // everyone peers with node 0
	LayoutChain = "chain" // node i peers with i-1
	LayoutFull  = "full"  // all pairs
)

// LeaderStake is the genesis stake note of every node.
const LeaderStake = 1000

// ClusterSpec is everything needed to generate a cluster's node configs.
type ClusterSpec struct {
	Validators, Executors int
	Network               string // star, chain or full
	SlotDuration          time.Duration
	ActiveSlotCoeff       float64
	SecurityParam         int
	ChainStart            time.Time
	// ProlongedBootstrap is how long a node stays Bootstrapping after its
	// initial sync (default 1s).
	ProlongedBootstrap time.Duration
	Wallets            int
	WalletFunds        uint64
	Seed               uint64
	KZGParamsPath      string
	DASubnets          int // default 2
	// Addrs are per node, validators first, then executors.
	Addrs []NodeAddrs
	// DataDirs are the nodes' data directories (same order as Addrs).
	DataDirs []string
	// RejoinBelowLIB sets the test-only testing.rejoin_below_lib on every
	// node: an Online node on a fork below its LIB re-enters Bootstrapping
	// and moves its LIB back (off by default; see simnode/README.md).
	RejoinBelowLIB bool
}

// NodeAddrs is the addressing a runner chooses for one node.
type NodeAddrs struct {
	API       string // http.backend_settings.address, host:port
	Testing   string // testing_http.backend_settings.address, host:port
	P2PListen string // host:port the p2p transport listens on
	P2PDial   string // host:port other nodes dial (an IP or a DNS name)
}

// NodeName is the name of the i-th node of a role.
func NodeName(role string, i int) string { return fmt.Sprintf("%s-%d", role, i) }

// PeerID is the libp2p peer id of a node of the cluster seeded with seed.
func PeerID(seed uint64, name string) (string, error) {
	key := txcodec.DeriveKey(seed, "p2p", name)
	sk, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return "", err
	}
	id, err := peer.IDFromPrivateKey(sk)
	return id.String(), err
}

// Multiaddr is the TCP multiaddr of hostport with the peer id.
func Multiaddr(hostport, peerID string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("port %q: %w", port, err)
	}
	proto := "dns4"
	if ip := net.ParseIP(host); ip != nil {
		proto = "ip4"
		if ip.To4() == nil {
			proto = "ip6"
		}
	}
	return fmt.Sprintf("/%s/%s/tcp/%s/p2p/%s", proto, host, port, peerID), nil
}

// Generate builds the configs of every node of spec, validators first.
func Generate(spec ClusterSpec) ([]NodeConfig, error) {
	n := spec.Validators + spec.Executors
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSpec, fmt.Sprintf(format, a...))
	}
	switch {
	case spec.Validators < 1 || spec.Executors < 0:
		return nil, bad("need at least one validator")
	case len(spec.Addrs) != n:
		return nil, bad("%d addresses for %d nodes", len(spec.Addrs), n)
	case len(spec.DataDirs) != n:
		return nil, bad("%d data directories for %d nodes", len(spec.DataDirs), n)
	case spec.SlotDuration < 10*time.Millisecond:
		return nil, bad("slot duration %v below 10ms", spec.SlotDuration)
	case !(spec.ActiveSlotCoeff > 0 && spec.ActiveSlotCoeff < 1):
		return nil, bad("active slot coefficient %v not in (0,1)", spec.ActiveSlotCoeff)
	case spec.SecurityParam < 1:
		return nil, bad("security parameter %d below 1", spec.SecurityParam)
	case spec.ChainStart.IsZero():
		return nil, bad("no chain start time")
	}
	if spec.Network == "" {
		spec.Network = LayoutStar
	}
	if spec.DASubnets == 0 {
		spec.DASubnets = 2
	}
	if spec.ProlongedBootstrap == 0 {
		spec.ProlongedBootstrap = time.Second
	}
	names := make([]string, 0, n)
	for i := range spec.Validators {
		names = append(names, NodeName(RoleValidator, i))
	}
	for i := range spec.Executors {
		names = append(names, NodeName(RoleExecutor, i))
	}
	var genesis Genesis
	cluster := make([]ClusterPeer, n)
	for i, name := range names {
		id, err := PeerID(spec.Seed, name)
		if err != nil {
			return nil, err
		}
		addr, err := Multiaddr(spec.Addrs[i].P2PDial, id)
		if err != nil {
			return nil, bad("node %s: p2p dial address: %v", name, err)
		}
		cluster[i] = ClusterPeer{Name: name, PeerID: id, Addr: addr}
		genesis.Leaders = append(genesis.Leaders, GenesisNote{
			PK: txcodec.PublicKey(txcodec.DeriveKey(spec.Seed, "leader", name)).String(), Value: LeaderStake})
	}
	for i := range spec.Wallets {
		genesis.Notes = append(genesis.Notes, GenesisNote{PK: txcodec.PublicKey(txcodec.WalletKey(spec.Seed, i)).String(), Value: spec.WalletFunds})
	}
	out := make([]NodeConfig, n)
	for i, name := range names {
		peers, err := initialPeers(spec.Network, i, n)
		if err != nil {
			return nil, bad("%v", err)
		}
		c := &out[i]
		c.Node = NodeSection{Name: name, Role: RoleValidator, Index: i, Cluster: cluster}
		if i >= spec.Validators {
			c.Node.Role, c.Node.Index = RoleExecutor, i-spec.Validators
		}
		host, port, err := net.SplitHostPort(spec.Addrs[i].P2PListen)
		if err != nil {
			return nil, bad("node %s: p2p listen address: %v", name, err)
		}
		c.Network.Backend.Swarm.Host = host
		c.Network.Backend.Swarm.Port, _ = strconv.Atoi(port)
		c.Network.Backend.Swarm.NodeKey = hex.EncodeToString(txcodec.DeriveKey(spec.Seed, "p2p", name).Seed())
		c.Network.Backend.InitialPeers = []string{}
		for _, p := range peers {
			c.Network.Backend.InitialPeers = append(c.Network.Backend.InitialPeers, cluster[p].Addr)
		}
		c.HTTP.BackendSettings.Address = spec.Addrs[i].API
		c.TestingHTTP.BackendSettings.Address = spec.Addrs[i].Testing
		cc := &c.Deployment.Cryptarchia
		cc.ConsensusConfig.SecurityParam = spec.SecurityParam
		cc.ConsensusConfig.ActiveSlotCoeff = spec.ActiveSlotCoeff
		cc.GossipsubProtocol = "/integration/nomos/cryptarchia/proto/1.0.0"
		c.Deployment.Time.SlotDuration = Duration(spec.SlotDuration)
		c.Deployment.Mempool.PubsubTopic = "mantle_e2e_tests"
		c.Time.ChainStartTime = OffsetDateTime(spec.ChainStart.UTC())
		leader := txcodec.DeriveKey(spec.Seed, "leader", name)
		c.Cryptarchia.Leader.PK = txcodec.PublicKey(leader).String()
		c.Cryptarchia.Leader.SK = hex.EncodeToString(leader.Seed())
		c.Cryptarchia.Service.StartingState.Genesis = genesis
		c.Cryptarchia.Service.Bootstrap.ProlongedBootstrapPeriod = Duration(spec.ProlongedBootstrap)
		c.Storage.DBPath = spec.DataDirs[i] + "/db"
		c.DANetwork.Backend.NumSubnets = spec.DASubnets
		c.DASampling.ShareVerifierSettings.GlobalParamsPath = spec.KZGParamsPath
		c.Testing.RejoinBelowLIB = spec.RejoinBelowLIB
	}
	return out, nil
}

// initialPeers are the indices node i dials in a layout of n nodes.
func initialPeers(layout string, i, n int) ([]int, error) {
	switch layout {
	case LayoutStar:
		if i == 0 {
			return nil, nil
		}
		return []int{0}, nil
	case LayoutChain:
		if i == 0 {
			return nil, nil
		}
		return []int{i - 1}, nil
	case LayoutFull:
		var p []int
		for j := range i {
			p = append(p, j)
		}
		return p, nil
	}
	return nil, fmt.Errorf("network layout %q is not star, chain or full", layout)
}
