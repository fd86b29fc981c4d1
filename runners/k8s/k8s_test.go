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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/runnertest"
	"github.com/nomosrun/nomosrun/simnode/config"

	// The reference node kind renders the nodes' configs.
	_ "github.com/nomosrun/nomosrun/nodekind/reference"
)

func testPlan(n int) *plan.Plan {
	p := runnertest.Plan("")
	p.Topology.Validators = n
	p.Topology.Nodes = nil
	for i := range n {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: config.NodeName("validator", i), Role: plan.RoleValidator, Index: i})
	}
	return p
}

func TestRenderNode(t *testing.T) {
	d := nodeData{Namespace: "ns1", RunID: "abc", Node: "validator-0", Role: "validator", Image: "img:1",
		PullPolicy: "Never", Command: []string{"/simnode"}, ReadyPath: referenceReadyPath,
		Env: []EnvVar{{"POL_PROOF_DEV_MODE", "true"}}, Ports: Ports{18080, 18081, 3000}, ServiceType: "NodePort",
		Claim: true, StorageClass: "fast", DataDir: "/data", ConfigDir: "/config",
		Resources: defaultResources}
	config := "a: \"quoted\"\nb: 2\n"
	if err := d.setLaunch(nodekind.Launch{Files: map[string][]byte{"node.yaml": []byte(config)}, Args: []string{"--config", "/config/node.yaml"}}); err != nil {
		t.Fatal(err)
	}
	o, err := renderNode(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []metav1.Object{o.ConfigMap, o.Service, o.Claim, o.Deployment, &o.Deployment.Spec.Template} {
		if m.GetLabels()[labelRun] != "abc" || m.GetLabels()[labelNode] != "validator-0" {
			t.Errorf("%T labels %v: want run and node labels", m, m.GetLabels())
		}
	}
	if got := o.ConfigMap.Data["node.yaml"]; got != config || len(o.ConfigMap.Data) != 1 || o.ConfigMap.BinaryData != nil {
		t.Errorf("config map %v, want node.yaml %q", o.ConfigMap.Data, config)
	}
	if *o.Claim.Spec.StorageClassName != "fast" || o.Claim.Spec.Resources.Requests.Storage().String() != "256Mi" {
		t.Errorf("claim %+v", o.Claim.Spec)
	}
	pod := o.Deployment.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "img:1" || c.ImagePullPolicy != corev1.PullNever || strings.Join(c.Command, " ") != "/simnode" {
		t.Errorf("container %s %s %v", c.Image, c.ImagePullPolicy, c.Command)
	}
	if strings.Join(c.Args, " ") != "--config /config/node.yaml" || c.VolumeMounts[0].MountPath != "/config" || !c.VolumeMounts[0].ReadOnly ||
		c.VolumeMounts[1].MountPath != "/data" || c.VolumeMounts[1].SubPath != "" {
		t.Errorf("args %v, mounts %+v", c.Args, c.VolumeMounts)
	}
	// The reference node reads its config from the ConfigMap itself.
	if len(pod.InitContainers) != 0 || pod.Volumes[0].ConfigMap == nil || pod.Volumes[0].ConfigMap.Items != nil {
		t.Errorf("init containers %+v, config volume %+v", pod.InitContainers, pod.Volumes[0])
	}
	if pod.ShareProcessNamespace == nil || !*pod.ShareProcessNamespace {
		t.Error("the pod does not share its PID namespace: pause could not signal the node")
	}
	if c.LivenessProbe != nil {
		t.Errorf("liveness probe %+v would restart a paused node", c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/cryptarchia/info" || c.ReadinessProbe.HTTPGet.Port.StrVal != "api" {
		t.Errorf("readiness probe %+v", c.ReadinessProbe)
	}
	if c.Resources.Limits.Memory().String() != "512Mi" || c.Resources.Requests.Cpu().String() != "50m" {
		t.Errorf("resources %+v", c.Resources)
	}
	if pod.Volumes[1].PersistentVolumeClaim == nil || pod.Volumes[1].PersistentVolumeClaim.ClaimName != "validator-0-data" {
		t.Errorf("data volume %+v, want the claim", pod.Volumes[1])
	}
	if o.Service.Spec.Type != corev1.ServiceTypeNodePort || len(o.Service.Spec.Ports) != 3 || !o.Service.Spec.PublishNotReadyAddresses {
		t.Errorf("service %+v", o.Service.Spec)
	}
	d.Claim, d.Command = false, nil
	if o, err = renderNode(d); err != nil {
		t.Fatal(err)
	}
	if o.Claim != nil || o.Deployment.Spec.Template.Spec.Volumes[1].EmptyDir == nil || o.Deployment.Spec.Template.Spec.Containers[0].Command != nil {
		t.Errorf("without a claim: claim %v, volume %+v", o.Claim, o.Deployment.Spec.Template.Spec.Volumes[1])
	}
}

func TestNewRejectsBadEnv(t *testing.T) {
	t.Setenv(env.ImagePullPolicy.Name, "Sometimes")
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), env.ImagePullPolicy.Name) {
		t.Errorf("bad pull policy: %v", err)
	}
	t.Setenv(env.ImagePullPolicy.Name, "")
	t.Setenv(env.K8sDeployTimeout.Name, "soon")
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), env.K8sDeployTimeout.Name) {
		t.Errorf("bad timeout: %v", err)
	}
}

func TestNoKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("HOME", t.TempDir())
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(1), ChainStart: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "KUBECONFIG") {
		t.Errorf("deploy without a cluster: %v, want an error naming KUBECONFIG", err)
	}
}

func TestDeployControlTeardown(t *testing.T) {
	f := newFakeCluster(t)
	r := fakeRunner(t, f, nil)
	ctx := context.Background()
	runDir := t.TempDir()
	cl, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(3), RunDir: runDir, ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c := cl.(*Cluster)
	ns, err := f.CoreV1().Namespaces().Get(ctx, c.Namespace(), metav1.GetOptions{})
	if err != nil || ns.Labels[labelRun] != c.runID {
		t.Fatalf("namespace %v: %v", ns, err)
	}
	// Peers dial Service ClusterIPs: validator-1's config names validator-0's.
	svc0, _ := f.CoreV1().Services(c.ns).Get(ctx, "validator-0", metav1.GetOptions{})
	cm1, err := f.CoreV1().ConfigMaps(c.ns).Get(ctx, "validator-1-config", metav1.GetOptions{})
	if err != nil || !strings.Contains(cm1.Data["node.yaml"], "/ip4/"+svc0.Spec.ClusterIP+"/tcp/3000") {
		t.Errorf("validator-1 config does not dial validator-0 at %s: %v\n%s", svc0.Spec.ClusterIP, err, cm1.Data["node.yaml"])
	}
	if _, err := os.Stat(filepath.Join(runDir, "configs", "validator-2.yaml")); err != nil {
		t.Errorf("config not kept in the run dir: %v", err)
	}
	if n := c.Nodes()[0]; !strings.HasPrefix(n.API(), "http://127.0.0.1:") || n.TestingAPI() == "" {
		t.Errorf("node endpoints %q %q", n.API(), n.TestingAPI())
	}

	before, _ := c.podsOf(ctx, "validator-1")
	if err := c.Restart(ctx, "validator-1"); err != nil {
		t.Fatal(err)
	}
	after, _ := c.podsOf(ctx, "validator-1")
	if len(after) != 1 || after[0].UID == before[0].UID {
		t.Errorf("restart kept pod %s", before[0].UID)
	}
	if err := c.Kill(ctx, "validator-2"); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.AppsV1().Deployments(c.ns).Get(ctx, "validator-2", metav1.GetOptions{}); *d.Spec.Replicas != 0 {
		t.Errorf("killed node has %d replicas", *d.Spec.Replicas)
	}
	if err := c.Start(ctx, "validator-2"); err != nil {
		t.Fatal(err)
	}
	if pods, _ := c.podsOf(ctx, "validator-2"); len(pods) != 1 {
		t.Errorf("started node has %d pods", len(pods))
	}
	if err := c.Restart(ctx, "nobody"); err == nil {
		t.Error("restart of an unknown node succeeded")
	}

	logs := t.TempDir()
	if err := c.CollectLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(logs, "validator-0.log")); err != nil || len(b) == 0 {
		t.Errorf("log of validator-0: %q %v", b, err)
	}

	if err := c.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CoreV1().Namespaces().Get(ctx, c.ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace still there after teardown: %v", err)
	}
	if left, err := c.Leftovers(ctx); err != nil || len(left) != 0 {
		t.Errorf("leftovers %v %v", left, err)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Errorf("second teardown: %v", err)
	}
}

func TestGivenNamespaceKeepsIt(t *testing.T) {
	f := newFakeCluster(t)
	ctx := context.Background()
	f.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}, metav1.CreateOptions{})
	f.CoreV1().ConfigMaps("shared").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs"}}, metav1.CreateOptions{})
	r := fakeRunner(t, f, func(o *Options) { o.Namespace = "shared" })
	cl, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(2), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CoreV1().Namespaces().Get(ctx, "shared", metav1.GetOptions{}); err != nil {
		t.Errorf("the given namespace was deleted: %v", err)
	}
	if _, err := f.CoreV1().ConfigMaps("shared").Get(ctx, "theirs", metav1.GetOptions{}); err != nil {
		t.Errorf("an object of someone else was deleted: %v", err)
	}
	if left, _ := cl.(*Cluster).Leftovers(ctx); len(left) != 0 {
		t.Errorf("left in the shared namespace: %v", left)
	}
}

func TestImagePullErrorIsClear(t *testing.T) {
	f := newFakeCluster(t)
	f.podState = func(p *corev1.Pod) {
		p.Status = corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "node", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ErrImageNeverPull", Message: "image not present with pull policy Never"}}}}}
	}
	r := fakeRunner(t, f, nil)
	ctx := context.Background()
	_, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(1), ChainStart: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "example.org/node:1") || !strings.Contains(err.Error(), "nomosrun image save") {
		t.Fatalf("deploy with a missing image: %v", err)
	}
	nss, _ := f.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if len(nss.Items) != 0 {
		t.Errorf("a failed deploy left namespace %s", nss.Items[0].Name)
	}
}

func TestNotReadyDiagnostics(t *testing.T) {
	f := newFakeCluster(t)
	f.podState = func(p *corev1.Pod) {
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "node", RestartCount: 3, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CrashLoopBackOff", Message: "back-off restarting"}}}}}
	}
	r := fakeRunner(t, f, func(o *Options) { o.DeployTimeout = 200 * time.Millisecond })
	_, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(2), ChainStart: time.Now()})
	for _, want := range []string{"not ready after 200ms", "validator-1", "CrashLoopBackOff", "3 restarts", "last log lines"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("deploy error %v: want %q", err, want)
		}
	}
}

func TestPreserveKeepsNamespace(t *testing.T) {
	f := newFakeCluster(t)
	r := fakeRunner(t, f, func(o *Options) { o.Preserve = true })
	ctx := context.Background()
	cl, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(1), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CoreV1().Namespaces().Get(ctx, cl.(*Cluster).ns, metav1.GetOptions{}); err != nil {
		t.Errorf("preserved namespace gone: %v", err)
	}
}

func TestWriteManifests(t *testing.T) {
	t.Setenv(env.K8sNamespace.Name, "")
	t.Setenv(env.K8sStorageClass.Name, "")
	r, err := New(Options{Image: "img:2"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := r.WriteManifests(testPlan(2), dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("files %v, want namespace + 2 nodes", paths)
	}
	b, err := os.ReadFile(filepath.Join(dir, "02-validator-1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "---\n")[1:]
	kinds := []string{}
	for _, d := range docs {
		var m struct{ Kind string }
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("%v in\n%s", err, d)
		}
		kinds = append(kinds, m.Kind)
	}
	if got := strings.Join(kinds, ","); got != "Service,ConfigMap,PersistentVolumeClaim,Deployment" {
		t.Errorf("kinds %s", got)
	}
	if !strings.Contains(string(b), "/dns4/validator-0.nomosrun.svc/tcp/3000") {
		t.Errorf("validator-1 does not dial validator-0 by DNS name:\n%s", b)
	}
}

// NOMOS_LOG_DIR reaches every pod, as in the Rust framework: the nodes write their
// log files there, inside the pod.
func TestLogDirPassedToPods(t *testing.T) {
	t.Setenv("NOMOS_LOG_DIR", "/logs")
	if !slices.Contains(nodeEnv(), EnvVar{"NOMOS_LOG_DIR", "/logs"}) {
		t.Errorf("node env = %v, want NOMOS_LOG_DIR=/logs", nodeEnv())
	}
	os.Unsetenv("NOMOS_LOG_DIR")
	for _, e := range nodeEnv() {
		if e.Name == "NOMOS_LOG_DIR" {
			t.Errorf("unset NOMOS_LOG_DIR given to pods: %v", e)
		}
	}
}

// The OpenTelemetry variables reach every pod, so its node exports to the
// collector the run names.
func TestOTLPVariablesPassedToPods(t *testing.T) {
	t.Setenv("NOMOS_OTLP_ENDPOINT", "http://10.0.0.9:4318")
	t.Setenv("NOMOS_OTLP_METRICS_ENDPOINT", "http://10.0.0.9:4318")
	for _, want := range []EnvVar{{"NOMOS_OTLP_ENDPOINT", "http://10.0.0.9:4318"}, {"NOMOS_OTLP_METRICS_ENDPOINT", "http://10.0.0.9:4318"}} {
		if !slices.Contains(nodeEnv(), want) {
			t.Errorf("node env = %v, want %v", nodeEnv(), want)
		}
	}
}
