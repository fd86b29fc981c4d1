package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/simnode/config"
)

func TestUsageAndConfigErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--config") {
		t.Errorf("no args: %d %q", code, errb.String())
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "n.yaml")
	os.WriteFile(p, []byte("node: {name: validator-0, role: validator}\n"), 0o644)
	errb.Reset()
	if code := Main(context.Background(), []string{"--config", p}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "http.backend_settings.address") {
		t.Errorf("incomplete config: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := Main(context.Background(), []string{"--config", filepath.Join(dir, "missing.yaml")}, &out, &errb); code != 2 {
		t.Errorf("missing file: %d %q", code, errb.String())
	}
}

func TestUnparsableDevModeIsAStartupError(t *testing.T) {
	p := oneNodeConfig(t)
	t.Setenv("POL_PROOF_DEV_MODE", "maybe")
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--config", p}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "POL_PROOF_DEV_MODE") || !strings.Contains(errb.String(), `"maybe"`) {
		t.Errorf("POL_PROOF_DEV_MODE=maybe: exit %d, stderr %q; want 2 and a message naming the variable and the value", code, errb.String())
	}
}

func TestCheckConfigAndCleanShutdown(t *testing.T) {
	p := oneNodeConfig(t)
	dir := filepath.Dir(p)
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--check-config", "--config", p}, &out, &errb); code != 0 || !strings.Contains(out.String(), "config ok") {
		t.Fatalf("check-config: %d %q %q", code, out.String(), errb.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	t.Setenv("NOMOS_LOG_DIR", filepath.Join(dir, "logs"))
	if code := Main(ctx, []string{"--config", p}, &out, &errb); code != 0 {
		t.Fatalf("run: %d %q", code, errb.String())
	}
	log, err := os.ReadFile(filepath.Join(dir, "logs", "nomos-node-0.log"))
	if err != nil || !strings.Contains(string(log), "node stopped") || !strings.Contains(string(log), "block produced") {
		t.Errorf("log file: %v\n%s", err, log)
	}
}

// oneNodeConfig writes the config of a one-validator cluster on ephemeral
// loopback ports into a temporary directory and returns its path.
func oneNodeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	spec := config.ClusterSpec{Validators: 1, SlotDuration: 100 * time.Millisecond, ActiveSlotCoeff: 0.9, SecurityParam: 2,
		ChainStart: time.Now(), Addrs: []config.NodeAddrs{{API: "127.0.0.1:0", Testing: "127.0.0.1:0", P2PListen: "127.0.0.1:0", P2PDial: "127.0.0.1:1"}},
		DataDirs: []string{dir}}
	cfgs, err := config.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "n.yaml")
	if err := config.Write(p, &cfgs[0]); err != nil {
		t.Fatal(err)
	}
	return p
}
