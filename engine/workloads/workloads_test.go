package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/fake"
)

type codec struct{}

func (codec) Transfer(i int) (nodeapi.Tx, error) {
	pk := fmt.Sprintf("wallet-%d", i)
	return nodeapi.Tx{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{Outputs: []nodeapi.Note{{Value: 100, PK: pk}}}}}, nil
}

func (codec) Inscription(ch, parent string, _ []byte) (nodeapi.Tx, error) {
	p := fmt.Appendf(nil, `{"channel_id":%q,"inscription":[],"parent":%q,"signer":"00"}`, ch, parent)
	return nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{{Opcode: nodeapi.OpChannelInscribe, Payload: p}}}}, nil
}

func (codec) MsgID(op nodeapi.Op) (string, error) {
	s := sha256.Sum256(op.Payload)
	return hex.EncodeToString(s[:]), nil
}

func (codec) Signer() string { return "00" }

func testPlan(validators, executors int) *plan.Plan {
	p := &plan.Plan{Seed: 3, Topology: plan.Topology{Validators: validators, Executors: executors, SecurityParam: 2,
		Slot: plan.Duration(time.Second), ActiveSlotCoeff: 1},
		Wallets: plan.Wallets{Count: 8, Funds: 100},
		Derived: plan.Derived{BlockInterval: plan.Duration(time.Second), RunDuration: plan.Duration(20 * time.Second), ExpectedBlocks: 20}}
	for i := 0; i < validators; i++ {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	for i := 0; i < executors; i++ {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("executor-%d", i), Role: plan.RoleExecutor, Index: i})
	}
	return p
}

func deploy(t *testing.T, p *plan.Plan, o fake.Options) (*fake.Cluster, *Env) {
	t.Helper()
	rc, err := fake.New(o).Deploy(context.Background(), runners.DeploySpec{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.(*fake.Cluster)
	env := &Env{Plan: p, Codec: codec{}, Cluster: c, Seed: p.Seed, Log: slog.New(slog.DiscardHandler)}
	src := map[string]feed.Source{}
	for _, n := range c.Nodes() {
		fn := n.(*fake.Node)
		env.Nodes = append(env.Nodes, nodeclient.Node{Name: fn.Name(), Role: fn.Role(), Client: fn})
		src[fn.Name()] = fn
	}
	env.Feed = feed.New(src, nil)
	return c, env
}

func TestTxPlan(t *testing.T) {
	p := testPlan(1, 0)
	p.Derived.RunDuration = plan.Duration(60 * time.Second)
	p.Derived.BlockInterval = plan.Duration(2 * time.Second)
	n, every, err := TxPlan(plan.Transactions{Rate: 5}, p)
	if err != nil || n != 8 || every != time.Second {
		t.Errorf("TxPlan = %d every %v (%v), want 8 (wallets) every 1s", n, every, err)
	}
	p.Wallets.Count = 1000
	if n, every, _ := TxPlan(plan.Transactions{Rate: 1, Users: 500}, p); n != 30 || every != time.Second {
		t.Errorf("TxPlan = %d every %v, want 30 (60s/2s × 1) every 1s", n, every)
	}
	p.Derived.RunDuration = plan.Duration(time.Second)
	if _, _, err := TxPlan(plan.Transactions{Rate: 1}, p); err == nil ||
		err.Error() != "Transaction workload planning failed: calculated zero transactions to submit based on run duration and target rate" {
		t.Errorf("zero plan: %v", err)
	}
	p.Wallets.Count = 0
	if _, _, err := TxPlan(plan.Transactions{Rate: 1}, p); err == nil || !strings.Contains(err.Error(), "no seeded wallet accounts") {
		t.Errorf("no wallets: %v", err)
	}
}

func TestTxSubmitsAndRetriesAcrossNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(3, 0)
		c, env := deploy(t, p, fake.Options{})
		c.Pause(context.Background(), "validator-0") // refuses every call
		w, err := newTx("w1", plan.Transactions{Rate: 1}, p)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := w.Run(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		if got := w.Counts(); got["planned"] != 8 || got["submitted"] != 8 || got["failed"] != 0 {
			t.Errorf("counts = %v, want 8 planned and submitted", got)
		}
		// Transaction i is due at i × 1s: the eighth goes out at 7s.
		if d := time.Since(start); d != 7*time.Second {
			t.Errorf("took %v, want 7 × 1s", d)
		}
		for i := 0; i < 8; i++ {
			if !w.Tracked(fmt.Sprintf("wallet-%d", i)) {
				t.Errorf("wallet-%d not tracked", i)
			}
		}
		if len(c.CallLog("add_tx")) <= 8 {
			t.Error("no retry went past the paused node")
		}

		c.Pause(context.Background(), "validator-1")
		c.Pause(context.Background(), "validator-2")
		w2, _ := newTx("w2", plan.Transactions{Rate: 1, Users: 1}, p)
		w2.Run(context.Background(), env)
		if got := w2.Counts(); got["failed"] != 1 || got["submitted"] != 0 {
			t.Errorf("all nodes down: counts = %v, want 1 failed", got)
		}
	})
}

func TestDADispersesChainedBlobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(1, 2)
		d := newDA("w1", plan.DA{ChannelRate: 1, BlobRate: 2, Headroom: 100}, p)
		if len(d.Channels()) != 2 || d.PlannedBlobs() != 20 {
			t.Fatalf("plan: %d channels, %d blobs; want 2 and 2 × 20/2", len(d.Channels()), d.PlannedBlobs())
		}
		if ch := d.Channels()[1]; ch != hex.EncodeToString([]byte("chn_wrkd"))+strings.Repeat("0", 32)+"0000000000000001" {
			t.Errorf("channel id = %s", ch)
		}
		c, env := deploy(t, p, fake.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); env.Feed.Run(ctx, time.Second) }()
		err := d.Run(ctx, env)
		cancel()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		got := d.Counts()
		if got["inscribed"] != 2 || got["dispersed"] != 20 || got["included"] != 20 || got["failed"] != 0 {
			t.Errorf("counts = %v", got)
		}
		// Each message names the previous message of its channel as parent.
		prev := map[string]string{}
		chained := 0
		for _, id := range env.Feed.Canonical() {
			b, err := c.Node("validator-0").Block(context.Background(), id)
			if err != nil || b == nil {
				t.Fatalf("block %s: %v", id, err)
			}
			for _, tx := range b.Transactions {
				for _, op := range tx.MantleTx.Ops {
					ch, parent := "", ""
					if in, ok := op.Inscription(); ok {
						ch, parent = in.ChannelID, in.Parent
					} else if bl, ok := op.Blob(); ok {
						ch, parent = bl.Channel, bl.Parent
					}
					want, seen := prev[ch]
					if !seen {
						want = RootMsgID
					}
					if parent != want {
						t.Errorf("channel %s: message parent %s, want %s", ch[:16], parent, want)
					} else {
						chained++
					}
					prev[ch], _ = codec{}.MsgID(op)
				}
			}
		}
		if chained != 22 {
			t.Errorf("%d correctly chained messages, want 22 (2 inscriptions + 20 blobs)", chained)
		}
	})
}

func TestDANeedsExecutors(t *testing.T) {
	p := testPlan(2, 0)
	_, env := deploy(t, p, fake.Options{})
	err := newDA("w1", plan.DA{ChannelRate: 1, BlobRate: 1}, p).Run(context.Background(), env)
	if err == nil || err.Error() != "da workload requires at least one executor" {
		t.Errorf("err = %v", err)
	}
}

func TestChaosRespectsCooldownAndNeverTheOnlyValidator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(1, 2)
		cfg := plan.ChaosRestart{Validators: true, Executors: true, MinDelay: plan.Duration(time.Second),
			MaxDelay: plan.Duration(2 * time.Second), TargetCooldown: plan.Duration(10 * time.Second)}
		ch, err := newChaos("w1", cfg, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ch.targets, ","); got != "executor-0,executor-1" {
			t.Fatalf("targets = %s, want the executors only (one validator)", got)
		}
		_, env := deploy(t, p, fake.Options{})
		last := map[string]time.Time{}
		var gaps []time.Duration
		env.Restarted = func(_, n string) {
			if t0, ok := last[n]; ok {
				gaps = append(gaps, time.Since(t0))
			}
			last[n] = time.Now()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := ch.Run(ctx, env); err != nil {
			t.Fatal(err)
		}
		if n := ch.Counts()["restarts"]; n < 8 || n > 12 {
			t.Errorf("restarts = %d in 60s, want about 10 (two targets, 10s cooldown each)", n)
		}
		for _, g := range gaps {
			if g < 10*time.Second {
				t.Errorf("a target restarted again after %v, within its 10s cooldown", g)
			}
		}
	})
}

func TestChaosErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := plan.ChaosRestart{Validators: true, MinDelay: plan.Duration(time.Second), MaxDelay: plan.Duration(time.Second)}
		p := testPlan(1, 0)
		ch, _ := newChaos("w1", cfg, p)
		_, env := deploy(t, p, fake.Options{})
		if err := ch.Run(context.Background(), env); err == nil || err.Error() != "chaos restart workload has no eligible targets" {
			t.Errorf("one validator: %v", err)
		}
		p = testPlan(2, 0)
		ch, _ = newChaos("w1", cfg, p)
		_, env = deploy(t, p, fake.Options{RestartErr: errors.New("container gone")})
		if err := ch.Run(context.Background(), env); err == nil || !strings.HasPrefix(err.Error(), "node restart failed: validator-") ||
			!strings.HasSuffix(err.Error(), ": container gone") {
			t.Errorf("restart failure: %v", err)
		}
		env.Cluster = struct{ runners.Cluster }{env.Cluster}
		if err := ch.Run(context.Background(), env); err == nil || err.Error() != "chaos restart workload requires node control" {
			t.Errorf("no control: %v", err)
		}
	})
}

// TestCodecUsers: exactly the workloads that sign transactions ask the
// engine for a codec; a chaos-only run must not wait for the genesis block.
func TestCodecUsers(t *testing.T) {
	var _ CodecUser = (*Tx)(nil)
	var _ CodecUser = (*DA)(nil)
	if _, ok := Workload(&Chaos{}).(CodecUser); ok {
		t.Error("chaos_restart signs nothing but asks for a codec")
	}
}
