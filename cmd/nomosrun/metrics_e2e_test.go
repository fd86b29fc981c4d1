package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/nomosrun/nomosrun/assets/grafana"
	"github.com/nomosrun/nomosrun/engine/metrics"
	"github.com/nomosrun/nomosrun/internal/testenv"
)

// startPrometheus runs a real Prometheus server (the Debian package's
// binary, or NOMOS_PROMETHEUS_BIN) as a child process that scrapes the
// nodes listed in targetsFile (file_sd) every second, and returns its URL.
func startPrometheus(t *testing.T, targetsFile string) string {
	t.Helper()
	bin := os.Getenv("NOMOS_PROMETHEUS_BIN")
	if bin == "" {
		var err error
		bin, err = exec.LookPath("prometheus")
		testenv.Require(t, "a prometheus binary (Debian package prometheus)", err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: nomos
    file_sd_configs:
      - files: [%q]
        refresh_interval: 1s
`, targetsFile)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
	})
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("prometheus at %s not ready after 30s: %v\n%s", url, err, tail(string(out), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestE2EMetricsThroughPrometheus runs a scenario whose expect_metric
// queries go to a real Prometheus that scrapes the run's nodes through the
// prometheus-targets.json the run writes.
func TestE2EMetricsThroughPrometheus(t *testing.T) {
	needBinary(t)
	e2eSlots <- struct{}{}
	defer func() { <-e2eSlots }()
	runDir := t.TempDir()
	prom := startPrometheus(t, filepath.Join(runDir, "prometheus-targets.json"))
	r := runCLI(t, 2*time.Minute, []string{"NOMOS_METRICS_QUERY_URL=" + prom},
		"run", "testdata/e2e/metrics.star", "--run-dir", runDir)
	if r.code != int(ExitExpectations) {
		t.Fatalf("exit %d, want 5 (one threshold is meant to fail)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res := readReport(t, runDir)
	if res.Metrics != "prometheus "+prom {
		t.Errorf("report metrics source %q, want prometheus %s", res.Metrics, prom)
	}
	if len(res.Expectations) != 3 {
		t.Fatalf("%d expectations: %+v", len(res.Expectations), res.Expectations)
	}
	for i, e := range res.Expectations[:2] {
		if !e.Passed {
			t.Errorf("expectation %d failed: %s", i+1, e.Message)
		}
	}
	last := res.Expectations[2]
	if last.Passed || !strings.HasPrefix(last.Message, "metric max(cryptarchia_tip_height) = ") ||
		!strings.HasSuffix(last.Message, " over 2 node(s), want > 100000") {
		t.Errorf("the failing threshold: passed=%v %q", last.Passed, last.Message)
	}
	// The value Prometheus reported is a real height: at least the 2 of the
	// first threshold.
	var height float64
	if _, err := fmt.Sscanf(last.Message, "metric max(cryptarchia_tip_height) = %g", &height); err != nil || height < 2 {
		t.Errorf("height from prometheus %g (%v)", height, err)
	}
	checkDashboardMetrics(t, prom)
	checkRange(t, prom, res.Started)
}

// checkRange reads the tip height of each node over the run with a range
// query: it must grow over time.
func checkRange(t *testing.T, prom string, started time.Time) {
	t.Helper()
	p, err := metrics.NewPrometheus(prom)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := metrics.ParseQuery("cryptarchia_tip_height")
	series, err := p.Range(context.Background(), q.Selector, []string{"validator-0", "validator-1"}, started, time.Now(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Fatalf("range query: %d series, want 2", len(series))
	}
	for node, samples := range series {
		if len(samples) < 3 || samples[len(samples)-1].Value <= samples[0].Value {
			t.Errorf("%s: tip height over the run %v, want it to grow", node, samples)
		}
	}
}

// checkDashboardMetrics asserts that Prometheus holds series, scraped from
// both live nodes during the run, of every metric the Grafana dashboard
// queries.
func checkDashboardMetrics(t *testing.T, prom string) {
	t.Helper()
	data, err := grafana.Dashboards.ReadFile("nomos-node.json")
	if err != nil {
		t.Fatal(err)
	}
	names, err := grafana.MetricNames(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient(api.Config{Address: prom})
	if err != nil {
		t.Fatal(err)
	}
	papi := v1.NewAPI(c)
	for _, n := range names {
		v, _, _, err := papi.Query(context.Background(), fmt.Sprintf("count(count by (node) (count_over_time({__name__=%q, node=~\".+\"}[10m])))", n), time.Now())
		if err != nil {
			t.Errorf("dashboard metric %s: %v", n, err)
			continue
		}
		if vec, ok := v.(model.Vector); !ok || len(vec) != 1 || vec[0].Value != 2 {
			t.Errorf("dashboard metric %s: the nodes export no such series (query result %v)", n, v)
		}
	}
}
