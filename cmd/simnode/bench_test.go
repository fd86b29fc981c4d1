package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssMB is the resident set size of a process in MiB.
func rssMB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// BenchmarkIdleRSS reports the resident memory of each of 4 validators
// after 5 s of producing blocks with no transactions.
func BenchmarkIdleRSS(b *testing.B) {
	for range b.N {
		c := startCluster(b, clusterOpts{validators: 4, network: "star", slot: time.Second, k: 5, f: 0.9})
		time.Sleep(5 * time.Second)
		var maxRSS, sum float64
		for _, cmd := range c.cmds {
			r, err := rssMB(cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			sum += r
			maxRSS = max(maxRSS, r)
		}
		b.ReportMetric(sum/float64(len(c.cmds)), "MiB-avg-rss")
		b.ReportMetric(maxRSS, "MiB-max-rss")
		c.stopAll()
	}
}

// histogram is a cumulative Prometheus histogram.
type histogram struct {
	bounds []float64
	counts []float64
}

// parseHistogram sums the buckets of name from Prometheus text into h.
func (h *histogram) add(text, name string) {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, val, _ := strings.Cut(rest, `"} `)
		bound, err1 := strconv.ParseFloat(le, 64)
		if le == "+Inf" {
			bound, err1 = 1e9, nil
		}
		v, err2 := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		i := sort.SearchFloat64s(h.bounds, bound)
		if i == len(h.bounds) || h.bounds[i] != bound {
			h.bounds = append(h.bounds[:i], append([]float64{bound}, h.bounds[i:]...)...)
			h.counts = append(h.counts[:i], append([]float64{0}, h.counts[i:]...)...)
		}
		h.counts[i] += v
	}
}

// quantile interpolates linearly inside the bucket holding q.
func (h *histogram) quantile(q float64) float64 {
	if len(h.counts) == 0 || h.counts[len(h.counts)-1] == 0 {
		return 0
	}
	rank := q * h.counts[len(h.counts)-1]
	lo, prev := 0.0, 0.0
	for i, c := range h.counts {
		if c >= rank {
			if c == prev {
				return h.bounds[i]
			}
			return lo + (h.bounds[i]-lo)*(rank-prev)/(c-prev)
		}
		lo, prev = h.bounds[i], c
	}
	return h.bounds[len(h.bounds)-1]
}

// BenchmarkBlockPropagation runs 10 validators (star layout: blocks from
// leaves cross the hub) with 500 ms slots and reports the time from a
// block's slot start to its arrival at the other nodes.
func BenchmarkBlockPropagation(b *testing.B) {
	for range b.N {
		c := startCluster(b, clusterOpts{validators: 10, network: "star", slot: 500 * time.Millisecond, k: 10, f: 0.9})
		time.Sleep(20 * time.Second)
		var h histogram
		for _, cl := range c.clients {
			m, err := cl.Metrics(ctx(b))
			if err != nil {
				b.Fatal(err)
			}
			h.add(m, "cryptarchia_block_propagation_seconds")
		}
		b.ReportMetric(h.quantile(0.5)*1000, "ms-p50")
		b.ReportMetric(h.quantile(0.99)*1000, "ms-p99")
		b.ReportMetric(h.counts[len(h.counts)-1], "deliveries")
		c.stopAll()
	}
}

// BenchmarkManyValidators runs SIMNODE_BENCH_NODES validators (default 20,
// star layout, k = SIMNODE_BENCH_K, default 5) with 500 ms slots for 40 s and
// reports how far the LIBs advanced: slowest, median, and the nodes below
// half the median.
func BenchmarkManyValidators(b *testing.B) {
	n := 20
	if s := os.Getenv("SIMNODE_BENCH_NODES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	k := 5
	if s := os.Getenv("SIMNODE_BENCH_K"); s != "" {
		k, _ = strconv.Atoi(s)
	}
	for range b.N {
		c := startCluster(b, clusterOpts{validators: n, network: "star", slot: 500 * time.Millisecond, k: k, f: 0.9})
		time.Sleep(40 * time.Second)
		in, err := c.infos()
		if err != nil {
			b.Fatal(err)
		}
		minLIB, maxTip := -1.0, uint64(0)
		var libsSeen []float64
		for i, info := range in {
			maxTip = max(maxTip, info.Height)
			m, err := c.clients[i].Metrics(ctx(b))
			if err != nil {
				b.Fatal(err)
			}
			var lib float64
			for _, line := range strings.Split(m, "\n") {
				if v, ok := strings.CutPrefix(line, "cryptarchia_lib_height "); ok {
					lib, _ = strconv.ParseFloat(v, 64)
				}
			}
			libsSeen = append(libsSeen, lib)
			if minLIB < 0 || lib < minLIB {
				minLIB = lib
			}
		}
		b.ReportMetric(float64(n), "nodes")
		b.ReportMetric(minLIB, "min-lib-height")
		sort.Float64s(libsSeen)
		median := libsSeen[len(libsSeen)/2]
		b.ReportMetric(median, "median-lib-height")
		lagging := 0
		for _, l := range libsSeen {
			if l < median/2 {
				lagging++
			}
		}
		b.ReportMetric(float64(lagging), "lagging-nodes")
		online := 0
		for _, i := range in {
			if i.Mode == "Online" {
				online++
			}
		}
		b.ReportMetric(float64(online), "online-nodes")
		b.ReportMetric(float64(maxTip), "max-tip-height")
		var rss float64
		for _, cmd := range c.cmds {
			r, _ := rssMB(cmd.Process.Pid)
			rss += r
		}
		b.ReportMetric(rss/float64(n), "MiB-avg-rss")
		c.stopAll()
	}
}
