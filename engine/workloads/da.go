package workloads

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// Dispersal retry policy: 5 attempts, 2 s apart.
const (
	disperseAttempts = 5
	disperseDelay    = 2 * time.Second
)

// RootMsgID is the parent of a channel's first message.
const RootMsgID = nodeapi.GenesisParent

// DA inscribes channels, then disperses blobs on each through the
// executors, every message chained to the previous one of its channel. It
// implements expect.DASource.
type DA struct {
	id       string
	channels []string
	blobs    int
	c        *counters
}

// DAPlan returns the channel ids and the total number of blobs of a DA
// workload: channels = rate + ceil(rate × headroom / 100), blobs =
// blob_rate × max(1, expected_blocks / security_param).
func DAPlan(d plan.DA, p *plan.Plan) ([]string, int) {
	n := p.Derived.PlannedChannels
	if n <= 0 {
		n = max(d.ChannelRate+int(math.Ceil(float64(d.ChannelRate*d.Headroom)/100)), 1)
	}
	blobs := p.Derived.PlannedBlobs
	if blobs <= 0 {
		blobs = d.BlobRate * max(1, p.Derived.ExpectedBlocks/max(p.Topology.SecurityParam, 1))
	}
	chans := make([]string, n)
	for i := range chans {
		var id [32]byte
		copy(id[:8], "chn_wrkd")
		binary.BigEndian.PutUint64(id[24:], uint64(i))
		chans[i] = hex.EncodeToString(id[:])
	}
	return chans, blobs
}

func newDA(id string, d plan.DA, p *plan.Plan) *DA {
	chans, blobs := DAPlan(d, p)
	return &DA{id: id, channels: chans, blobs: blobs,
		c: newCounters(id, "channels", "inscribed", "dispersed", "included", "failed")}
}

// ID implements Workload.
func (d *DA) ID() string { return d.id }

// Kind implements Workload.
func (d *DA) Kind() plan.WorkloadKind { return plan.WorkloadDA }

// Counts implements Workload.
func (d *DA) Counts() map[string]int { return d.c.Counts() }

// Channels implements expect.DASource.
func (d *DA) Channels() []string { return append([]string(nil), d.channels...) }

// PlannedBlobs implements expect.DASource.
func (d *DA) PlannedBlobs() int { return d.blobs }

// Run implements Workload: every channel runs concurrently.
func (d *DA) Run(ctx context.Context, env *Env) error {
	if env.Codec == nil {
		return fmt.Errorf("workload %s: no transaction codec for this node type", d.id)
	}
	var executors []nodeclient.Node
	for _, n := range env.Nodes {
		if n.Role == plan.RoleExecutor {
			executors = append(executors, n)
		}
	}
	if len(executors) == 0 {
		return errors.New("da workload requires at least one executor")
	}
	// One op stream per channel, fed from canonical blocks.
	streams := map[string]chan nodeapi.Op{}
	for _, ch := range d.channels {
		streams[ch] = make(chan nodeapi.Op, 1024)
	}
	env.Feed.Subscribe(func(ev feed.Event) {
		if ev.Kind != feed.Added {
			return
		}
		for _, tx := range ev.Block.Transactions {
			for _, op := range tx.MantleTx.Ops {
				ch := ""
				if p, ok := op.Inscription(); ok {
					ch = p.ChannelID
				} else if p, ok := op.Blob(); ok {
					ch = p.Channel
				}
				if s := streams[ch]; s != nil {
					select {
					case s <- op:
					default: // a channel that stopped listening
					}
				}
			}
		}
	})
	d.c.add(env, "channels", len(d.channels))
	per := int(math.Ceil(float64(d.blobs) / float64(len(d.channels))))
	g, gctx := errgroup.WithContext(ctx)
	for i, ch := range d.channels {
		rng := env.rng(d.id + "/" + ch)
		g.Go(func() error {
			err := d.channel(gctx, env, executors, ch, streams[ch], per, rng.IntN, i)
			if err != nil && ctx.Err() != nil {
				return nil // the run ended
			}
			return err
		})
	}
	return g.Wait()
}

// channel inscribes ch, then disperses blobs on it one after the other.
func (d *DA) channel(ctx context.Context, env *Env, execs []nodeclient.Node, ch string, ops <-chan nodeapi.Op,
	blobs int, intn func(int) int, idx int) error {
	tx, err := env.Codec.Inscription(ch, RootMsgID, fmt.Appendf(nil, "Test channel inscription %d", idx))
	if err != nil {
		return fmt.Errorf("da workload: build inscription: %w", err)
	}
	if err := submit(ctx, env.Nodes, env.rng(d.id+"/submit/"+ch), tx); err != nil {
		d.c.add(env, "failed", 1)
		return fmt.Errorf("da workload: submit inscription for channel %s: %w", ch[:16], err)
	}
	op, err := waitOp(ctx, ops, func(op nodeapi.Op) bool { _, ok := op.Inscription(); return ok })
	if err != nil {
		return err
	}
	d.c.add(env, "inscribed", 1)
	parent, err := env.Codec.MsgID(op)
	if err != nil {
		return fmt.Errorf("da workload: inscription id: %w", err)
	}
	for b := 0; b < blobs; b++ {
		size := 31 * []int{1, 2, 4, 8}[intn(4)]
		data := make(nodeapi.Bytes, size)
		for i := range data {
			data[i] = byte(intn(256))
		}
		req := nodeapi.DispersalRequest{ChannelID: ch, ParentMsgID: parent, Signer: env.Codec.Signer(), Data: data}
		id, err := disperse(ctx, execs[intn(len(execs))], req)
		if err != nil {
			d.c.add(env, "failed", 1)
			return err
		}
		d.c.add(env, "dispersed", 1)
		op, err := waitOp(ctx, ops, func(op nodeapi.Op) bool {
			p, ok := op.Blob()
			return ok && p.Blob == id && p.Parent == parent
		})
		if err != nil {
			return err
		}
		d.c.add(env, "included", 1)
		if parent, err = env.Codec.MsgID(op); err != nil {
			return fmt.Errorf("da workload: blob message id: %w", err)
		}
	}
	return nil
}

func disperse(ctx context.Context, exec nodeclient.Node, req nodeapi.DispersalRequest) (nodeapi.BlobID, error) {
	var last error
	for a := 0; a < disperseAttempts; a++ {
		id, err := exec.Client.DisperseData(ctx, req)
		if err == nil {
			return id, nil
		}
		last = err
		if ctxtime.Sleep(ctx, disperseDelay) != nil {
			return id, ctx.Err()
		}
	}
	return nodeapi.BlobID{}, fmt.Errorf("da workload: publish blob via %s failed after %d attempts: %w", exec.Name, disperseAttempts, last)
}

// waitOp returns the first op from ops that match accepts.
func waitOp(ctx context.Context, ops <-chan nodeapi.Op, match func(nodeapi.Op) bool) (nodeapi.Op, error) {
	for {
		select {
		case <-ctx.Done():
			return nodeapi.Op{}, ctx.Err()
		case op := <-ops:
			if match(op) {
				return op, nil
			}
		}
	}
}

// UsesCodec implements CodecUser.
func (*DA) UsesCodec() {}
