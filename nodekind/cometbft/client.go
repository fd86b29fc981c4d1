package cometbft

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// ErrNoFaultHooks is what a CometBFT node answers to the engine's fault
// hooks: faults reach it from outside (signals, the kernel) or not at all.
var ErrNoFaultHooks = fmt.Errorf("%w: a CometBFT node takes network faults from the kernel only (host runner in netns mode, compose, k8s)", nodeclient.ErrNoFaultHooks)

// ErrNoDA is what a CometBFT node answers to DA calls.
var ErrNoDA = errors.New("a CometBFT chain has no data availability layer")

// Client reads a CometBFT node through its RPC (api) and its Prometheus
// endpoint (aux), in the engine's terms:
//
//   - a block's id is its hash (lower-case hex), its parent the previous
//     block's hash, its slot its height;
//   - height 0 is a genesis block of nomosrun's making, the parent of the
//     first block, with the id GenesisID(chain id): CometBFT has none, and
//     the engine's chain walks end at one;
//   - every block is final when it is committed, so the LIB is the tip;
//   - a transaction is a kvstore "key=value" write (see Codec).
type Client struct {
	c *nodeapi.Client

	mu    sync.Mutex
	chain string // the chain id, read once from /status
}

// NewClient returns a client of the node with RPC at api and Prometheus
// metrics at aux (base URLs).
func NewClient(api, aux string) *Client { return &Client{c: nodeapi.NewClient(api, aux, nil)} }

var _ nodeclient.Client = (*Client)(nil)

// GenesisID is the id of the genesis block nomosrun puts below a chain's
// first block.
func GenesisID(chainID string) string {
	sum := sha256.Sum256([]byte("cometbft-genesis\x00" + chainID))
	return hex.EncodeToString(sum[:])
}

// rpc is the JSON-RPC 2.0 envelope of every CometBFT answer.
type rpc[T any] struct {
	Result T `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    string `json:"data"`
	} `json:"error"`
}

// get calls an RPC route and returns its result.
func get[T any](ctx context.Context, c *nodeapi.Client, path string) (T, error) {
	var r rpc[T]
	if err := c.Get(ctx, nodeapi.MainAPI, path, &r); err != nil {
		var se *nodeapi.StatusError
		if errors.As(err, &se) && json.Unmarshal([]byte(se.Body), &r) == nil && r.Error != nil {
			return r.Result, fmt.Errorf("%s: %s: %s", path, r.Error.Message, r.Error.Data)
		}
		return r.Result, err
	}
	if r.Error != nil {
		return r.Result, fmt.Errorf("%s: %s: %s", path, r.Error.Message, r.Error.Data)
	}
	return r.Result, nil
}

// number reads CometBFT's 64-bit integers, which it writes as strings.
type number uint64

func (n *number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	*n = number(v)
	return err
}

type status struct {
	NodeInfo struct {
		ID         string `json:"id"`
		ListenAddr string `json:"listen_addr"`
		Network    string `json:"network"`
	} `json:"node_info"`
	SyncInfo struct {
		LatestBlockHash   string `json:"latest_block_hash"`
		LatestBlockHeight number `json:"latest_block_height"`
		CatchingUp        bool   `json:"catching_up"`
	} `json:"sync_info"`
}

type block struct {
	Block *struct {
		Header struct {
			Height      number    `json:"height"`
			Time        time.Time `json:"time"`
			LastBlockID struct {
				Hash string `json:"hash"`
			} `json:"last_block_id"`
		} `json:"header"`
		Data struct {
			Txs [][]byte `json:"txs"`
		} `json:"data"`
	} `json:"block"`
	BlockID struct {
		Hash string `json:"hash"`
	} `json:"block_id"`
}

func (c *Client) status(ctx context.Context) (status, error) {
	st, err := get[status](ctx, c.c, "/status")
	if err == nil {
		c.mu.Lock()
		c.chain = st.NodeInfo.Network
		c.mu.Unlock()
	}
	return st, err
}

// genesisID is GenesisID of the node's chain, read from /status once.
func (c *Client) genesisID(ctx context.Context) (string, error) {
	c.mu.Lock()
	chain := c.chain
	c.mu.Unlock()
	if chain == "" {
		st, err := c.status(ctx)
		if err != nil {
			return "", err
		}
		chain = st.NodeInfo.Network
	}
	return GenesisID(chain), nil
}

// Info implements nodeclient.Client from /status.
func (c *Client) Info(ctx context.Context) (nodeapi.Info, error) {
	st, err := c.status(ctx)
	if err != nil {
		return nodeapi.Info{}, err
	}
	tip := strings.ToLower(st.SyncInfo.LatestBlockHash)
	if st.SyncInfo.LatestBlockHeight == 0 {
		tip = GenesisID(st.NodeInfo.Network)
	}
	mode := nodeapi.ModeOnline
	if st.SyncInfo.CatchingUp {
		mode = nodeapi.ModeBootstrapping
	}
	h := uint64(st.SyncInfo.LatestBlockHeight)
	return nodeapi.Info{Tip: tip, LIB: tip, Height: h, Slot: h, Mode: mode}, nil
}

// Headers implements nodeclient.Client. Every committed block is final,
// so the walk from a tip to the LIB (the tip) is the tip alone; a walk
// to an older block follows parents.
func (c *Client) Headers(ctx context.Context, from, to string) ([]string, error) {
	if from == "" {
		info, err := c.Info(ctx)
		if err != nil {
			return nil, err
		}
		from = info.Tip
	}
	if to == "" {
		to = from
	}
	ids := []string{from}
	for id := from; id != to; {
		b, err := c.Block(ctx, id)
		if err != nil {
			return nil, err
		}
		if b == nil || b.Header.Parent == nodeapi.GenesisParent {
			return nil, fmt.Errorf("block %s does not descend from %s", from, to)
		}
		id = b.Header.Parent
		ids = append(ids, id)
	}
	return ids, nil
}

// Block implements nodeclient.Client with /block_by_hash; nil when the
// node does not know id.
func (c *Client) Block(ctx context.Context, id string) (*nodeapi.Block, error) {
	gen, err := c.genesisID(ctx)
	if err != nil {
		return nil, err
	}
	if id == gen {
		return &nodeapi.Block{Header: nodeapi.Header{Parent: nodeapi.GenesisParent}, Transactions: []nodeapi.Tx{}}, nil
	}
	if _, err := hex.DecodeString(id); err != nil {
		return nil, fmt.Errorf("block id %q is not hex", id)
	}
	r, err := get[block](ctx, c.c, "/block_by_hash?hash=0x"+id)
	if err != nil {
		return nil, err
	}
	if r.Block == nil {
		return nil, nil
	}
	h := r.Block.Header
	parent := strings.ToLower(h.LastBlockID.Hash)
	if h.Height <= 1 || parent == "" {
		parent = gen
	}
	b := &nodeapi.Block{Header: nodeapi.Header{Parent: parent, Slot: uint64(h.Height)}, Transactions: []nodeapi.Tx{}}
	for _, raw := range r.Block.Data.Txs {
		b.Transactions = append(b.Transactions, WrapTx(raw))
	}
	return b, nil
}

// AddTx implements nodeclient.Client with /broadcast_tx_sync: the node
// accepted the transaction into its mempool when CheckTx answered 0.
func (c *Client) AddTx(ctx context.Context, tx nodeapi.Tx) error {
	raw, ok := RawTx(tx)
	if !ok {
		return errors.New("not a CometBFT transaction (build it with the cometbft kind's codec)")
	}
	r, err := get[struct {
		Code number `json:"code"`
		Log  string `json:"log"`
	}](ctx, c.c, "/broadcast_tx_sync?tx=0x"+hex.EncodeToString(raw))
	if err != nil {
		return err
	}
	if r.Code != 0 {
		return fmt.Errorf("CheckTx refused the transaction: code %d: %s", r.Code, r.Log)
	}
	return nil
}

// TxStatus implements nodeclient.Client with /tx (the kv indexer): a
// transaction the node indexed is in the block at its height; one it did
// not is unknown (CometBFT reports no pending state by hash).
func (c *Client) TxStatus(ctx context.Context, hashes []string) ([]nodeapi.TxStatus, error) {
	out := make([]nodeapi.TxStatus, len(hashes))
	for i, h := range hashes {
		r, err := get[struct {
			Height number `json:"height"`
		}](ctx, c.c, "/tx?hash=0x"+url.QueryEscape(h))
		if err != nil {
			if strings.Contains(err.Error(), "not found") {
				out[i] = nodeapi.TxStatus{State: nodeapi.TxUnknown}
				continue
			}
			return nil, err
		}
		b, err := get[block](ctx, c.c, fmt.Sprintf("/block?height=%d", r.Height))
		if err != nil {
			return nil, err
		}
		out[i] = nodeapi.TxStatus{State: nodeapi.TxInBlock, Block: strings.ToLower(b.BlockID.Hash)}
	}
	return out, nil
}

// NetworkInfo implements nodeclient.Client with /net_info; the peer id is
// the node id peers dial.
func (c *Client) NetworkInfo(ctx context.Context) (nodeapi.NetworkInfo, error) {
	st, err := c.status(ctx)
	if err != nil {
		return nodeapi.NetworkInfo{}, err
	}
	ni, err := get[struct {
		Listeners []string `json:"listeners"`
		NPeers    number   `json:"n_peers"`
	}](ctx, c.c, "/net_info")
	if err != nil {
		return nodeapi.NetworkInfo{}, err
	}
	return nodeapi.NetworkInfo{PeerID: st.NodeInfo.ID, ListenAddresses: ni.Listeners,
		NPeers: int(ni.NPeers), NConnections: int(ni.NPeers)}, nil
}

// Metrics implements nodeclient.Client: the Prometheus endpoint.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	return c.c.Text(ctx, nodeapi.TestingAPI, "/metrics")
}

// DisperseData implements nodeclient.Client: there is no DA.
func (c *Client) DisperseData(context.Context, nodeapi.DispersalRequest) (nodeapi.BlobID, error) {
	return nodeapi.BlobID{}, ErrNoDA
}

// DAMembership implements nodeclient.Client: there is no DA.
func (c *Client) DAMembership(context.Context, uint64) (nodeapi.Membership, error) {
	return nodeapi.Membership{}, ErrNoDA
}

// BlockPeers implements nodeclient.FaultHooks: there are none.
func (c *Client) BlockPeers(context.Context, []string) error { return ErrNoFaultHooks }

// UnblockPeers implements nodeclient.FaultHooks: there are none.
func (c *Client) UnblockPeers(context.Context, []string) error { return ErrNoFaultHooks }

// SetLinkFault implements nodeclient.FaultHooks: there are none.
func (c *Client) SetLinkFault(context.Context, nodeapi.LinkFault) error { return ErrNoFaultHooks }

// SetClockOffset implements nodeclient.FaultHooks: there are none.
func (c *Client) SetClockOffset(context.Context, time.Duration) error { return ErrNoFaultHooks }

// SetBugs implements nodeclient.FaultHooks: there are none.
func (c *Client) SetBugs(context.Context, map[string]bool) error { return ErrNoFaultHooks }
