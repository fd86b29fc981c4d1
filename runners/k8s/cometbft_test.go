package k8s

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/nodekind/cometbft"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/runnertest"
)

// cometbftFiles are the files of a CometBFT home and their ConfigMap keys.
var cometbftFiles = map[string]string{
	"config/config.toml":             "config_-config.toml",
	"config/genesis.json":            "config_-genesis.json",
	"config/node_key.json":           "config_-node__key.json",
	"config/priv_validator_key.json": "config_-priv__validator__key.json",
	"data/priv_validator_state.json": "data_-priv__validator__state.json",
}

// TestDeployWritableConfigKind deploys CometBFT nodes, whose kind renders a
// whole home the node writes into: every file is in the ConfigMap under a
// key without "/", mapped back to its path; an init container of the
// kind's image copies them into a writable home on the data volume; the
// node runs the kind's arguments and is probed over TCP.
func TestDeployWritableConfigKind(t *testing.T) {
	f := newFakeCluster(t)
	r := fakeRunner(t, f, nil)
	ctx := context.Background()
	runDir := t.TempDir()
	p := runnertest.Plan(cometbft.Name)
	cl, err := r.Deploy(ctx, runners.DeploySpec{Plan: p, RunDir: runDir, ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c := cl.(*Cluster)
	t.Cleanup(func() { c.Teardown(ctx) })
	kind, err := nodekind.Get(cometbft.Name)
	if err != nil {
		t.Fatal(err)
	}
	image := kind.Program().Image

	cm, err := f.CoreV1().ConfigMaps(c.ns).Get(ctx, "validator-1-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.Data) != len(cometbftFiles) {
		t.Errorf("config map keys %v, want one per file of %v", keys(cm.Data), cometbftFiles)
	}
	for _, key := range cometbftFiles {
		if cm.Data[key] == "" {
			t.Errorf("config map has no %s (keys %v)", key, keys(cm.Data))
		}
	}
	// Peers dial Service ClusterIPs.
	svc0, _ := f.CoreV1().Services(c.ns).Get(ctx, "validator-0", metav1.GetOptions{})
	if toml := cm.Data["config_-config.toml"]; !strings.Contains(toml, "@"+svc0.Spec.ClusterIP+":3000") || !strings.Contains(toml, "0.0.0.0:18080") {
		t.Errorf("validator-1's config.toml does not listen on the API port or dial validator-0 at %s:\n%s", svc0.Spec.ClusterIP, toml)
	}
	if _, err := os.Stat(filepath.Join(runDir, "configs", "validator-1", "config", "genesis.json")); err != nil {
		t.Errorf("the rendered home is not kept in the run dir: %v", err)
	}

	dep, err := f.AppsV1().Deployments(c.ns).Get(ctx, "validator-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	vol := pod.Volumes[0]
	if vol.Name != "config" || vol.ConfigMap == nil || len(vol.ConfigMap.Items) != len(cometbftFiles) {
		t.Fatalf("config volume %+v, want items for every file", vol)
	}
	for _, it := range vol.ConfigMap.Items {
		if cometbftFiles[it.Path] != it.Key {
			t.Errorf("item %s -> %s, want key %s", it.Key, it.Path, cometbftFiles[it.Path])
		}
	}
	if len(pod.InitContainers) != 1 {
		t.Fatalf("init containers %+v, want the one that installs the home", pod.InitContainers)
	}
	ic := pod.InitContainers[0]
	if ic.Image != image || strings.Join(ic.Command, " ") != "/usr/local/bin/nomos-node install-files /rendered /config" {
		t.Errorf("init container %s %v, want %s installing /rendered into /config", ic.Image, ic.Command, image)
	}
	want := []string{"config /rendered ro", "data /config home rw"}
	if got := mounts(ic.VolumeMounts); !slices.Equal(got, want) {
		t.Errorf("init container mounts %v, want %v", got, want)
	}
	node := pod.Containers[0]
	if node.Image != image || node.Command != nil || strings.Join(node.Args, " ") != "start --home /config" {
		t.Errorf("node container %s %v %v, want %s with the kind's arguments", node.Image, node.Command, node.Args, image)
	}
	want = []string{"data /config home rw", "data /data data rw"}
	if got := mounts(node.VolumeMounts); !slices.Equal(got, want) {
		t.Errorf("node mounts %v, want %v", got, want)
	}
	if pr := node.ReadinessProbe; pr == nil || pr.HTTPGet != nil || pr.TCPSocket == nil || pr.TCPSocket.Port.StrVal != "api" {
		t.Errorf("readiness probe %+v, want TCP on the API port", pr)
	}

	// Pause names the node's program to the reference node binary beside it.
	rec := &execRecorder{reply: func([]string) (string, string, error) { return "signalled 1 process(es)\n", "", nil }}
	c.exec = rec.exec
	if err := c.Pause(ctx, "validator-1"); err != nil {
		t.Fatal(err)
	}
	calls := rec.take()
	if len(calls) != 1 || !strings.HasSuffix(calls[0], " node /usr/local/bin/nomos-node signal stop /usr/local/bin/cometbft") {
		t.Errorf("pause execs %q, want the signal of /usr/local/bin/cometbft", calls)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// mounts are "volume path subpath ro|rw", in order.
func mounts(ms []corev1.VolumeMount) []string {
	var out []string
	for _, m := range ms {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		out = append(out, strings.Join(strings.Fields(m.Name+" "+m.MountPath+" "+m.SubPath+" "+mode), " "))
	}
	return out
}

// TestImagePullErrorNamesTheKind: the hint saves the kind's image, whose
// init container is the first to pull it.
func TestImagePullErrorNamesTheKind(t *testing.T) {
	f := newFakeCluster(t)
	f.podState = func(p *corev1.Pod) {
		p.Status = corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{
			Name: installContainer, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ErrImageNeverPull", Message: "image not present with pull policy Never"}}}}}
	}
	_, err := fakeRunner(t, f, nil).Deploy(context.Background(), runners.DeploySpec{Plan: runnertest.Plan(cometbft.Name), ChainStart: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "nomosrun/cometbft:") || !strings.Contains(err.Error(), "image save --node cometbft") {
		t.Fatalf("deploy with a missing image: %v", err)
	}
}

// TestFailedInstallDiagnostics: a pod whose init container failed says so,
// with that container's log.
func TestFailedInstallDiagnostics(t *testing.T) {
	f := newFakeCluster(t)
	f.podState = func(p *corev1.Pod) {
		p.Status = corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{
			Name: installContainer, RestartCount: 2, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: "Error", ExitCode: 2}}}}}
	}
	r := fakeRunner(t, f, func(o *Options) { o.DeployTimeout = 200 * time.Millisecond })
	_, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: runnertest.Plan(cometbft.Name), ChainStart: time.Now()})
	for _, want := range []string{"init container install-config failed: Error (exit 2)", "last log lines of install-config"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("deploy error %v: want %q", err, want)
		}
	}
}

func TestConfigKey(t *testing.T) {
	for path, want := range map[string]string{
		"node.yaml": "node.yaml", "config/config.toml": "config_-config.toml", "a_b": "a__b", "a/b_c/d": "a_-b__c_-d",
	} {
		if got, err := configKey(path); got != want || err != nil {
			t.Errorf("configKey(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	// Paths that look alike keep distinct keys.
	seen := map[string]string{}
	for _, path := range []string{"a/b", "a_b", "a_/b", "a/_b", "a__b", "a-b", "a_-b"} {
		key, err := configKey(path)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[key]; ok {
			t.Errorf("%q and %q share key %q", path, other, key)
		}
		seen[key] = path
	}
	for _, bad := range []string{"", "/etc/x", "../x", "a/../b", "a//b", "./a", "a b", "a:b"} {
		if key, err := configKey(bad); err == nil {
			t.Errorf("configKey(%q) = %q, want an error", bad, key)
		}
	}
}

// TestSetLaunchBinaryFile: a file that is not UTF-8 goes to binaryData.
func TestSetLaunchBinaryFile(t *testing.T) {
	d := nodeData{Namespace: "ns", RunID: "r", Node: "n", ConfigDir: "/config", DataDir: "/data", Ports: Ports{18080, 18081, 3000}, Resources: defaultResources}
	bin := []byte{0xff, 0xfe, 0}
	if err := d.setLaunch(nodekind.Launch{Files: map[string][]byte{"keys/k.bin": bin, "a.toml": []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	o, err := renderNode(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.ConfigMap.BinaryData["keys_-k.bin"]; string(got) != string(bin) || o.ConfigMap.Data["a.toml"] != "x" {
		t.Errorf("config map data %v binary %v", o.ConfigMap.Data, o.ConfigMap.BinaryData)
	}
	if err := d.setLaunch(nodekind.Launch{}); err == nil {
		t.Error("a launch without files: no error")
	}
	if err := d.setLaunch(nodekind.Launch{Files: map[string][]byte{"../x": nil}}); err == nil || !strings.Contains(err.Error(), "../x") {
		t.Errorf("a file outside the config directory: %v", err)
	}
}

// TestWriteManifestsWritableConfigKind: hand-applied manifests of a
// CometBFT plan hold the kind's image and the init container too.
func TestWriteManifestsWritableConfigKind(t *testing.T) {
	r, err := New(Options{Image: "img:2", Namespace: "nomosrun"})
	if err != nil {
		t.Fatal(err)
	}
	p := runnertest.Plan(cometbft.Name)
	p.Topology.Image = "example.org/cometbft:test"
	dir := t.TempDir()
	if _, err := r.WriteManifests(p, dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "01-validator-0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"initContainers:", `image: "example.org/cometbft:test"`, "validator-0.nomosrun.svc:3000", "config_-config.toml"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("manifest lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "img:2") {
		t.Errorf("a CometBFT manifest runs the reference image:\n%s", b)
	}
}
