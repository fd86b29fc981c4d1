package history

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"testing"
	"time"
)

const (
	benchBlocks = 10_000
	benchNodes  = 100
	benchK      = 10
	benchSlot   = time.Second
)

func benchID(kind string, n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s%d", kind, n))
	return hex.EncodeToString(sum[:])
}

// benchHistory builds a 10,000-block chain with a three-block fork every
// 1,000 blocks, and 100 nodes each polled once per block (LIB = tip - k).
// The node owning a fork reports its tip while the fork lives.
func benchHistory() *History {
	h := New()
	chain := make([]string, benchBlocks+1)
	for i := range chain {
		chain[i] = benchID("a", i)
		parent := ""
		if i > 0 {
			parent = chain[i-1]
		}
		h.AddBlock(chain[i], parent, uint64(i))
	}
	forks := map[int]string{} // height -> fork tip at that height
	for f := 1_000; f < benchBlocks; f += 1_000 {
		parent := chain[f-1]
		for j := range 3 {
			id := benchID(fmt.Sprintf("fork%d-", f), j)
			h.AddBlock(id, parent, uint64(f+j))
			forks[f+j], parent = id, id
		}
	}
	names := make([]string, benchNodes)
	for n := range names {
		names[n] = fmt.Sprintf("val-%02d", n)
	}
	h.SetWindow(0, benchBlocks*benchSlot)
	for height := range benchBlocks + 1 {
		for n, name := range names {
			tip := chain[height]
			if f, ok := forks[height]; ok && n == height/1_000 {
				tip = f
			}
			at := time.Duration(height)*benchSlot + time.Duration(n)*time.Millisecond
			h.Observe(name, at, Observation{
				Height: uint64(height), Tip: tip, LIB: chain[max(height-benchK, 0)], Mode: ModeOnline,
			})
		}
	}
	return h
}

func BenchmarkCheck(b *testing.B) {
	var before, built, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	h := benchHistory()
	buildTime := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&built)
	p := LivenessParams{Slot: benchSlot, ActiveSlotCoeff: 1, Tolerance: 0.8, Lag: 2}
	for b.Loop() {
		s := CheckSafety(h)
		l := CheckLiveness(h, p)
		if err := s.Err(); err != nil || s.LIBs < benchNodes*(benchBlocks-benchK) {
			b.Fatalf("safety: %v (%d LIBs)", err, s.LIBs)
		}
		if err := l.Err(); err != nil {
			b.Fatalf("liveness: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	historyMB := float64(built.HeapAlloc-before.HeapAlloc) / 1e6
	checkMB := float64(after.TotalAlloc-built.TotalAlloc) / 1e6 / float64(b.N)
	b.ReportMetric(historyMB, "history-MB")
	b.ReportMetric(checkMB, "check-MB/op")
	b.ReportMetric(historyMB+checkMB, "MB")
	b.ReportMetric(buildTime.Seconds(), "build-s")
}
