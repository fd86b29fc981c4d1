package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/api"
	"github.com/nomosrun/nomosrun/simnode/da"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// shareProtocol carries one DA share from an executor to a subnet member.
const shareProtocol = "/nomosrun/da/share/1.0.0"

// daService is the node's data-availability side: the share store, the
// subnet membership (node i of the cluster serves subnet i mod subnets) and,
// on executors, dispersal.
type daService struct {
	n       *Node
	subnets int
	store   *da.Store

	once      sync.Once
	params    *da.Params
	paramsErr error
}

func newDAService(n *Node) *daService {
	s := max(n.cfg.DANetwork.Backend.NumSubnets, 1)
	return &daService{n: n, subnets: s, store: da.NewStore()}
}

// DA is the node's DA API side.
func (n *Node) DA() api.DA {
	if n.da == nil {
		return nil
	}
	return n.da
}

// loadParams loads the KZG parameters on first use, so a validator without
// the file still runs consensus; DA calls then fail with the loader's error.
func (d *daService) loadParams() (*da.Params, error) {
	d.once.Do(func() {
		if path := d.n.cfg.DASampling.ShareVerifierSettings.GlobalParamsPath; path != "" {
			d.params, d.paramsErr = da.LoadParams(path)
		} else {
			d.params, d.paramsErr = da.LoadDefaultParams()
		}
	})
	return d.params, d.paramsErr
}

// members are the cluster peers of subnet s.
func (d *daService) members(s int) []int {
	var out []int
	for i := range d.n.cfg.Node.Cluster {
		if i%d.subnets == s {
			out = append(out, i)
		}
	}
	return out
}

func (d *daService) start() {
	d.n.net.Handle(shareProtocol, func(from peer.ID, req []byte) ([]byte, error) {
		if err := d.accept(req); err != nil {
			d.n.log.Warn("share rejected", "target", "da", "peer", d.n.net.Name(from), "err", err)
			return nil, err
		}
		return []byte("true"), nil
	})
}

// accept verifies and stores an encoded share.
func (d *daService) accept(data []byte) error {
	p, err := d.loadParams()
	if err != nil {
		return err
	}
	s, err := da.DecodeShare(data)
	if err != nil {
		return err
	}
	if err := da.Verify(p, s); err != nil {
		return err
	}
	return d.store.Put(s)
}

// disperse encodes data, sends share i to the members of subnet i (which
// verify and store it) and submits the ChannelBlob transaction, signed by
// this executor's key. Under the drop_da_shares bug it answers the same
// blob id but delivers no share and withholds the blob tx, as a node
// withholds a blob tx whose blob cannot be sampled: the blob never becomes
// available nor included.
func (d *daService) disperse(ctx context.Context, req wire.DispersalRequest) (nodeapi.BlobID, error) {
	p, err := d.loadParams()
	if err != nil {
		return nodeapi.BlobID{}, err
	}
	if d.n.net == nil {
		return nodeapi.BlobID{}, errNoNetwork
	}
	id, shares, err := da.Encode(p, da.Config{Columns: d.subnets}, req.Data)
	if err != nil {
		return nodeapi.BlobID{}, err
	}
	if d.n.bugOn(bugDropDAShares) {
		d.n.log.Debug("dispersal dropped (drop_da_shares bug)", "target", "da", "blob", nodeapi.BlobID(id))
		return nodeapi.BlobID(id), nil
	}
	self := d.n.net.ID().String()
	for col, s := range shares {
		data, err := json.Marshal(s)
		if err != nil {
			return nodeapi.BlobID{}, err
		}
		delivered := 0
		for _, m := range d.members(col) {
			member := d.n.cfg.Node.Cluster[m]
			if member.PeerID == self {
				err = d.accept(data)
			} else if pid, perr := peer.Decode(member.PeerID); perr != nil {
				err = perr
			} else {
				_, err = d.n.net.Request(ctx, pid, shareProtocol, data)
			}
			if err != nil {
				d.n.log.Warn("share not delivered", "target", "da", "column", col, "member", member.Name, "err", err)
				continue
			}
			delivered++
		}
		if delivered == 0 {
			return nodeapi.BlobID{}, fmt.Errorf("dispersal: no member of subnet %d took its share", col)
		}
	}
	tx, err := wire.ParseTx(txcodec.BlobTx(d.n.leader, req.ChannelID, req.ParentMsgID, nodeapi.BlobID(id), uint64(len(req.Data))))
	if err == nil {
		err = d.n.AddTx(ctx, &tx)
	}
	if err != nil {
		return nodeapi.BlobID{}, fmt.Errorf("dispersal: blob tx: %w", err)
	}
	return nodeapi.BlobID(id), nil
}

// MainRoutes implements api.DA.
func (d *daService) MainRoutes(mux *http.ServeMux) {
	if d.n.IsExecutor() {
		mux.HandleFunc("POST /disperse-data", func(w http.ResponseWriter, r *http.Request) {
			var req wire.DispersalRequest
			if !api.ReadJSON(w, r, &req) {
				return
			}
			id, err := d.disperse(r.Context(), req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			api.WriteJSON(w, id)
		})
	}
	mux.HandleFunc("POST /da/add-share", func(w http.ResponseWriter, r *http.Request) {
		var raw json.RawMessage
		if !api.ReadJSON(w, r, &raw) {
			return
		}
		if err := d.accept(raw); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		api.WriteJSON(w, nil)
	})
	commitments := func(w http.ResponseWriter, r *http.Request) {
		var req da.StorageCommitmentsRequest
		if !api.ReadJSON(w, r, &req) {
			return
		}
		c, ok := d.store.Commitments(req.BlobID)
		if !ok {
			api.WriteJSON(w, nil)
			return
		}
		api.WriteJSON(w, da.NewSharesCommitments(c))
	}
	mux.HandleFunc("POST /da/get-commitments", commitments)
	mux.HandleFunc("GET /da/get-storage-commitments", commitments)
	mux.HandleFunc("GET /da/get-share", func(w http.ResponseWriter, r *http.Request) {
		var req da.GetShareRequest
		if !api.ReadJSON(w, r, &req) {
			return
		}
		s, ok := d.store.Share(req.BlobID, int(req.ShareIdx))
		if !ok {
			api.WriteJSON(w, nil)
			return
		}
		api.WriteJSON(w, s.Light())
	})
	mux.HandleFunc("GET /da/sampling/shares", func(w http.ResponseWriter, r *http.Request) {
		var req da.GetSharesRequest
		if !api.ReadJSON(w, r, &req) {
			return
		}
		shares := d.store.Shares(req.BlobID)
		if len(shares) == 0 {
			http.Error(w, "Blob index not found", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = da.WriteLightShares(w, req, shares)
	})
	mux.HandleFunc("GET /da/balancer-stats", func(w http.ResponseWriter, r *http.Request) { api.WriteJSON(w, d.balancer()) })
	mux.HandleFunc("GET /da/monitor-stats", func(w http.ResponseWriter, r *http.Request) { api.WriteJSON(w, map[string]any{}) })
	mux.HandleFunc("GET /da/blacklisted-peers", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, d.n.Faults().Blocked)
	})
	for path, f := range map[string]func([]string) error{"/da/block-peer": d.n.BlockPeers, "/da/unblock-peer": d.n.UnblockPeers} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			var p string
			if !api.ReadJSON(w, r, &p) {
				return
			}
			api.WriteJSON(w, f([]string{p}) == nil)
		})
	}
}

// balancer counts the connected members of each subnet by direction.
func (d *daService) balancer() nodeapi.BalancerStats {
	out := nodeapi.BalancerStats{}
	if d.n.net == nil {
		return out
	}
	for s := range d.subnets {
		var c nodeapi.BalancerCounts
		for _, m := range d.members(s) {
			pid, err := peer.Decode(d.n.cfg.Node.Cluster[m].PeerID)
			if err != nil || pid == d.n.net.ID() {
				continue
			}
			in, outb := d.n.net.Directions(pid)
			c.Inbound += in
			c.Outbound += outb
		}
		if c.Inbound+c.Outbound > 0 {
			out[strconv.Itoa(s)] = c
		}
	}
	return out
}

// TestingRoutes implements api.DA.
func (d *daService) TestingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /test/da/membership", func(w http.ResponseWriter, r *http.Request) {
		var session uint64
		if !api.ReadJSON(w, r, &session) {
			return
		}
		m := nodeapi.Membership{Assignations: map[string][]string{}, Addressbook: map[string]string{}}
		if session == 0 {
			for s := range d.subnets {
				for _, i := range d.members(s) {
					p := d.n.cfg.Node.Cluster[i]
					m.Assignations[strconv.Itoa(s)] = append(m.Assignations[strconv.Itoa(s)], p.PeerID)
					m.Addressbook[p.PeerID] = p.Addr
				}
			}
		}
		api.WriteJSON(w, m)
	})
}

var _ api.DA = (*daService)(nil)
