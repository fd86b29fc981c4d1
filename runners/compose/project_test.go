package compose

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/owner"
	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/internal/versions"
)

func TestProjectFile(t *testing.T) {
	subnet := netip.MustParsePrefix("10.213.7.0/24")
	yml, err := projectFile("nomosrun-abc", "img:1", "127.0.0.1", map[string]string{"NOMOS_LOG_LEVEL": "debug"}, "10s", subnet, []serviceSpec{
		{name: "validator-0", configDir: "/run/configs/validator-0", command: []string{"--config", "/config/node.yaml"},
			apiPort: 40001, testPort: 40002, p2pAddr: nodeAddr(subnet, 0)},
		{name: "executor-0", configDir: "/run/configs/executor-0", writable: true, apiPort: 40003, testPort: 40004, p2pAddr: nodeAddr(subnet, 1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(yml, &f); err != nil {
		t.Fatalf("the compose file does not parse back: %v\n%s", err, yml)
	}
	if len(f.Services) != 2 || len(f.Volumes) != 2 || len(f.Networks) != 2 {
		t.Fatalf("services %d volumes %d networks %d, want 2 each", len(f.Services), len(f.Volumes), len(f.Networks))
	}
	v := f.Services["validator-0"]
	if v.Image != "img:1" || v.ContainerName != "nomosrun-abc-validator-0" {
		t.Errorf("service = %+v", v)
	}
	if strings.Join(v.Ports, " ") != "127.0.0.1:40001:8080 127.0.0.1:40002:8081" {
		t.Errorf("ports = %v", v.Ports)
	}
	if strings.Join(v.Volumes, " ") != "/run/configs/validator-0:/config:ro data-validator-0:/data" {
		t.Errorf("volumes = %v", v.Volumes)
	}
	if got := v.Networks[p2pNet].Aliases; len(got) != 1 || got[0] != "p2p-validator-0" {
		t.Errorf("p2p aliases = %v", got)
	}
	if strings.Join(v.Command, " ") != "--config /config/node.yaml" {
		t.Errorf("command = %v", v.Command)
	}
	// Fixed peer addresses, so a restarted node comes back where its peers
	// dial it.
	if v.Networks[p2pNet].IPv4Address != "10.213.7.2" || f.Services["executor-0"].Networks[p2pNet].IPv4Address != "10.213.7.3" {
		t.Errorf("p2p addresses = %+v, %+v", v.Networks[p2pNet], f.Services["executor-0"].Networks[p2pNet])
	}
	if ipam := f.Networks[p2pNet].IPAM; ipam == nil || len(ipam.Config) != 1 || ipam.Config[0].Subnet != "10.213.7.0/24" {
		t.Errorf("p2p network ipam = %+v", ipam)
	}
	// A node that writes into its config directory gets it read-write.
	if got := strings.Join(f.Services["executor-0"].Volumes, " "); got != "/run/configs/executor-0:/config data-executor-0:/data" {
		t.Errorf("writable config volumes = %v", got)
	}
	if _, ok := v.Networks[ctlNet]; !ok {
		t.Error("service is not on the ctl network")
	}
	if v.Labels[LabelRun] != "nomosrun-abc" || v.Labels[LabelNode] != "validator-0" || v.Labels[LabelOwner] != owner.Self() || v.Environment["NOMOS_LOG_LEVEL"] != "debug" {
		t.Errorf("labels %v env %v", v.Labels, v.Environment)
	}
	if !f.Networks[p2pNet].Internal || f.Networks[ctlNet].DriverOpts["com.docker.network.bridge.enable_icc"] != "false" {
		t.Errorf("networks = %+v", f.Networks)
	}
	for name, n := range f.Networks {
		if n.Labels[LabelRun] != "nomosrun-abc" {
			t.Errorf("network %s labels = %v", name, n.Labels)
		}
	}
	if f.Volumes["data-executor-0"].Labels[LabelRun] != "nomosrun-abc" {
		t.Errorf("volume labels = %v", f.Volumes["data-executor-0"].Labels)
	}
}

func TestNewRejectsBadHost(t *testing.T) {
	t.Setenv(env.ComposeHost.Name, "localhost")
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), `COMPOSE_RUNNER_HOST="localhost" is not an IP address`) {
		t.Fatalf("err = %v", err)
	}
	t.Setenv(env.ComposeHost.Name, "")
	t.Setenv(env.ComposePreserve.Name, "1")
	r, err := New(Options{})
	if err != nil || !r.opts.Preserve || r.opts.HostIP != "127.0.0.1" {
		t.Fatalf("New = %+v, %v", r, err)
	}
}

func TestRunIDsAreProjectNames(t *testing.T) {
	a, b := newRunID(), newRunID()
	if a == b || !strings.HasPrefix(a, "nomosrun-") || strings.ToLower(a) != a {
		t.Fatalf("run ids %q %q", a, b)
	}
}

func TestPortTaken(t *testing.T) {
	err := errors.New("Error starting userland proxy: listen tcp4 127.0.0.1:40001: bind: address already in use")
	if !clashed(err) || clashed(errors.New("no such image")) || !clashed(errors.New("Error response from daemon: Pool overlaps with other one on this address space")) {
		t.Fatal("clashed misclassifies")
	}
}

// NOMOS_LOG_DIR reaches every container, as in the Rust framework: the nodes write
// their log files there, inside the container.
func TestLogDirPassedToContainers(t *testing.T) {
	t.Setenv("NOMOS_LOG_DIR", "/logs")
	vars := passthrough()
	if vars["NOMOS_LOG_DIR"] != "/logs" {
		t.Fatalf("passthrough = %v, want NOMOS_LOG_DIR=/logs", vars)
	}
	yml, err := projectFile("nomosrun-abc", "img:1", "127.0.0.1", vars, "10s", netip.Prefix{}, []serviceSpec{
		{name: "validator-0", configDir: "/c", apiPort: 40001, testPort: 40002}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(yml), "NOMOS_LOG_DIR: /logs") {
		t.Errorf("the compose file does not give NOMOS_LOG_DIR:\n%s", yml)
	}
}

// TestComposeV2UnderCI: the compose suite runs on the Compose v2 CLI that
// .ci/run builds at COMPOSE_VERSION (tools/ci.d/15-compose.sh), not on
// whatever the machine had.
func TestComposeV2UnderCI(t *testing.T) {
	if !testenv.InCI() {
		t.Skip("checks the CI machine's Compose CLI")
	}
	cli, version, err := CLI()
	if err != nil {
		t.Fatal(err)
	}
	pins, err := versions.Default()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cli, " ") != "docker compose" || "v"+version != pins.Compose {
		t.Fatalf("the compose runner uses %q version %s, want the docker compose plugin %s", strings.Join(cli, " "), version, pins.Compose)
	}
}
