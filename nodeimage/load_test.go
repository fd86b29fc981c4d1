package nodeimage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// testTag is a tag no user image has; the tests remove it when done.
func testTag() string { return fmt.Sprintf("nomosrun-test/simnode:load-%d", os.Getpid()) }

// writeArchive builds the image from this checkout into a file.
func writeArchive(t *testing.T, tag string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Write(context.Background(), f, tag, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDockerLoadRunsTheNode loads the archive with `docker load` and starts a
// one-node cluster from it: the node must serve its API.
func TestDockerLoadRunsTheNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and needs Docker")
	}
	_, err := exec.LookPath("docker")
	if err == nil {
		err = exec.Command("docker", "version").Run()
	}
	testenv.Require(t, "a Docker engine", err)
	t.Setenv(env.NodeBin.Name, "")
	tag := testTag()
	archive := writeArchive(t, tag)
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "-f", tag).Run() })
	if out := run(t, "docker", "load", "-i", archive); !strings.Contains(out, tag) {
		t.Fatalf("docker load did not report %s: %s", tag, out)
	}

	dir := t.TempDir()
	cfgs, err := config.Generate(config.ClusterSpec{
		Validators: 1, SlotDuration: time.Second, ActiveSlotCoeff: 0.9, SecurityParam: 10,
		ChainStart: time.Now(), Seed: 1,
		Addrs:    []config.NodeAddrs{{API: "0.0.0.0:8080", Testing: "0.0.0.0:8081", P2PListen: "0.0.0.0:3000", P2PDial: "127.0.0.1:3000"}},
		DataDirs: []string{DataDir},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Write(filepath.Join(dir, "node.yaml"), &cfgs[0]); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("nomosrun-test-load-%d", os.Getpid())
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", "-v", name).Run() })
	run(t, "docker", "run", "-d", "--name", name, "-v", dir+":"+ConfigDir+":ro", "-p", "127.0.0.1::8080", tag)
	hostPort := run(t, "docker", "port", name, "8080/tcp")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + strings.Fields(hostPort)[0] + "/cryptarchia/info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command("docker", "logs", name).CombinedOutput()
			t.Fatalf("node in the image never served its API: %v\nlogs:\n%s", err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCtrImportAcceptsTheArchive imports the archive into containerd the way
// the Kubernetes runner does, in a namespace of its own.
func TestCtrImportAcceptsTheArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and needs containerd")
	}
	_, err := exec.LookPath("ctr")
	if err == nil {
		err = findContainerd(t)
	}
	testenv.Require(t, "containerd (ctr)", err)
	t.Setenv(env.NodeBin.Name, "")
	tag := testTag()
	archive := writeArchive(t, tag)
	ns := fmt.Sprintf("nomosrun-test-%d", os.Getpid())
	t.Cleanup(func() {
		for _, ref := range strings.Fields(run(t, "ctr", "-n", ns, "images", "ls", "-q")) {
			exec.Command("ctr", "-n", ns, "images", "rm", "--sync", ref).Run()
		}
		exec.Command("ctr", "-n", ns, "content", "prune", "references").Run()
		exec.Command("ctr", "namespaces", "rm", ns).Run()
	})
	run(t, "ctr", "-n", ns, "images", "import", archive)
	refs := run(t, "ctr", "-n", ns, "images", "ls", "-q")
	if !strings.Contains(refs, "nomosrun-test/simnode:load-") {
		t.Fatalf("ctr images ls after import = %q, want %s", refs, tag)
	}
}

// findContainerd points ctr (through CONTAINERD_ADDRESS) at a containerd
// that answers: the system one, else the one Docker runs for itself.
func findContainerd(t *testing.T) error {
	var err error
	for _, addr := range []string{env.ContainerdAddress.Get(), "/run/containerd/containerd.sock", "/var/run/docker/containerd/containerd.sock"} {
		if addr == "" {
			continue
		}
		var out []byte
		out, err = exec.Command("ctr", "--address", addr, "--timeout", "5s", "version").CombinedOutput()
		if err == nil {
			t.Setenv("CONTAINERD_ADDRESS", addr)
			return nil
		}
		err = fmt.Errorf("%s: %v: %s", addr, err, strings.TrimSpace(string(out)))
	}
	return err
}
