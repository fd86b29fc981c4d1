package k8s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/owner"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelfaults"
	"github.com/nomosrun/nomosrun/runners/kernelnet/agent"
)

// Labels every object of a run carries.
const (
	labelRun  = "nomosrun.io/run"
	labelNode = "nomosrun.io/node"
)

// Cluster is a deployed plan: a namespace (or, in a given namespace, the
// run's labelled objects) with one Deployment per node.
type Cluster struct {
	opts     Options
	client   kubernetes.Interface
	config   *rest.Config
	runID    string
	ns       string
	ownNS    bool // the run created the namespace, so Teardown deletes it
	preserve bool
	log      *slog.Logger
	nodes    []*node
	// What the plan's node kind makes of the pods: its name, the image,
	// the HTTP readiness route ("" for a TCP probe) and the executable
	// pause signals ("" for the reference node, which signals itself).
	kind, image, readyPath, program string
	kernelfaults.Faulter

	teardownOnce sync.Once
	teardownErr  error

	exec         execFunc // runs a command in a pod (tests replace it)
	execMu       sync.Mutex
	signalPrefix []string // the command line before "signal OP" that worked
}

var (
	_ runners.Cluster      = (*Cluster)(nil)
	_ runners.Restarter    = (*Cluster)(nil)
	_ runners.Killer       = (*Cluster)(nil)
	_ runners.StopStarter  = (*Cluster)(nil)
	_ runners.LogCollector = (*Cluster)(nil)
	_ runners.Pauser       = (*Cluster)(nil)
	_ runners.NetFaulter   = (*Cluster)(nil)
)

// node is one deployed node.
type node struct {
	name, role   string
	prole        plan.Role
	api, testing string // base URLs
	fwd          *forwarder
	agentFwd     *forwarder    // to the network agent, when there is one
	agent        *agent.Client // the network agent through agentFwd
}

func (n *node) Name() string       { return n.name }
func (n *node) Role() plan.Role    { return n.prole }
func (n *node) API() string        { return n.api }
func (n *node) TestingAPI() string { return n.testing }

func newCluster(opts Options, client kubernetes.Interface, cfg *rest.Config, runID string, log *slog.Logger) *Cluster {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "nomosrun-" + runID
	}
	c := &Cluster{opts: opts, client: client, config: cfg, runID: runID, ns: ns, preserve: opts.Preserve,
		log: log.With("namespace", ns), kind: nodekind.Default, image: opts.Image, readyPath: referenceReadyPath}
	c.exec = c.spdyExec
	c.Faulter = kernelfaults.Faulter{Log: c.log, Why: errNoAgent}
	return c
}

// Namespace is the namespace the run's objects are in.
func (c *Cluster) Namespace() string { return c.ns }

// Nodes returns the nodes in topology order.
func (c *Cluster) Nodes() []runners.Node {
	out := make([]runners.Node, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n
	}
	return out
}

// useKind finds the plan's node kind and sets what the pods take from it.
func (c *Cluster) useKind(p *plan.Plan) (nodekind.Kind, error) {
	kind, err := nodekind.Get(p.Topology.Node)
	if err != nil {
		return nil, err
	}
	c.kind = kind.Name()
	c.image = nodekind.ImageOf(p.Topology, kind, c.opts.Image)
	c.readyPath, c.program = referenceReadyPath, ""
	if kind.Name() != nodekind.Default {
		// The node is the kind's program: the image's entrypoint, or the
		// command that overrides it.
		c.readyPath, c.program = "", nodeimage.ProgramPath(kind.Name())
		if len(c.opts.Command) > 0 {
			c.program = c.opts.Command[0]
		}
	}
	return kind, nil
}

func (c *Cluster) data(n plan.Node) nodeData {
	return nodeData{
		Namespace: c.ns, RunID: c.runID, Node: n.Name, Role: string(n.Role),
		Image: c.image, PullPolicy: c.opts.PullPolicy, Command: c.opts.Command, ReadyPath: c.readyPath,
		Ports: Ports{API: portAPI, Testing: portTesting, P2P: portP2P}, ServiceType: "NodePort",
		DataDir: dataDir, ConfigDir: configDir, Resources: c.opts.Resources, Env: nodeEnv(),
	}
}

// deploy creates everything and waits until every node is ready and reachable.
func (c *Cluster) deploy(ctx context.Context, spec runners.DeploySpec, host string) error {
	start := time.Now()
	kind, err := c.useKind(spec.Plan)
	if err != nil {
		return err
	}
	if err := c.createNamespace(ctx); err != nil {
		return err
	}
	claim, class, err := c.storage(ctx)
	if err != nil {
		return err
	}
	topo := spec.Plan.Topology
	datas := make([]nodeData, len(topo.Nodes))
	dial := make([]string, len(topo.Nodes))
	nodePorts := make([][2]int, len(topo.Nodes))
	withAgent := spec.Plan.MayUseKernelNetwork()
	for i, n := range topo.Nodes {
		datas[i] = c.data(n)
		datas[i].Claim, datas[i].StorageClass = claim, class
		if withAgent {
			datas[i].NetAgent = netAgent()
		}
		svc, err := renderService(datas[i])
		if err != nil {
			return err
		}
		got, err := c.client.CoreV1().Services(c.ns).Create(ctx, svc, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create service %s: %w", n.Name, err)
		}
		if got.Spec.ClusterIP == "" || got.Spec.ClusterIP == corev1.ClusterIPNone {
			return fmt.Errorf("service %s got no cluster IP", n.Name)
		}
		dial[i] = got.Spec.ClusterIP
		for _, p := range got.Spec.Ports {
			switch p.Name {
			case "api":
				nodePorts[i][0] = int(p.NodePort)
			case "testing":
				nodePorts[i][1] = int(p.NodePort)
			}
		}
	}
	launches, err := renderLaunches(kind, spec.Plan, spec.ChainStart, dial)
	if err != nil {
		return err
	}
	if spec.RunDir != "" {
		if err := writeLaunches(filepath.Join(spec.RunDir, "configs"), topo.Nodes, launches); err != nil {
			return err
		}
	}
	for i, n := range topo.Nodes {
		if err := datas[i].setLaunch(launches[i]); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		objs, err := renderNode(datas[i])
		if err != nil {
			return err
		}
		if err := c.createNode(ctx, objs); err != nil {
			return fmt.Errorf("create %s: %w", n.Name, err)
		}
		c.nodes = append(c.nodes, &node{name: n.Name, role: string(n.Role), prole: n.Role})
		c.Faulter.Nodes = append(c.Faulter.Nodes, n.Name)
	}
	c.log.Info("k8s objects created; waiting for ready pods", "nodes", len(c.nodes), "image", c.image)
	if err := c.waitReady(ctx, c.names(), c.opts.DeployTimeout); err != nil {
		return err
	}
	if err := c.connectNodes(ctx, host, nodePorts); err != nil {
		return err
	}
	if withAgent {
		if err := c.attachNetwork(ctx, dial); err != nil {
			return err
		}
	}
	c.log.Info("k8s cluster deployed", "nodes", len(c.nodes), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (c *Cluster) names() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.name
	}
	return out
}

// createNamespace makes the run's namespace, or adopts the given one.
func (c *Cluster) createNamespace(ctx context.Context) error {
	ns, err := renderNamespace(nodeData{Namespace: c.ns, RunID: c.runID, Owner: owner.Self()})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	switch {
	case err == nil:
		c.ownNS = true
		c.log.Info("namespace created")
		return nil
	case apierrors.IsAlreadyExists(err) && c.opts.Namespace != "":
		// A given namespace that exists (a shared cluster): only the run's
		// labelled objects go at Teardown.
		c.log.Info("using existing namespace")
		return nil
	case apierrors.IsForbidden(err) && c.opts.Namespace != "":
		if _, gerr := c.client.CoreV1().ConfigMaps(c.ns).List(ctx, metav1.ListOptions{Limit: 1}); gerr == nil {
			c.log.Info("using existing namespace (no right to create namespaces)")
			return nil
		}
	}
	return fmt.Errorf("create namespace %s: %w", c.ns, err)
}

// storage decides the data volumes: a claim of the chosen class, a claim of
// the cluster's default class, or emptyDir when there is none.
func (c *Cluster) storage(ctx context.Context) (claim bool, class string, err error) {
	switch c.opts.StorageClass {
	case "none":
		return false, "", nil
	case "":
	default:
		return true, c.opts.StorageClass, nil
	}
	list, err := c.client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		c.log.Warn("cannot list storage classes; node data will not survive restarts", "err", err,
			"hint", "set "+env.K8sStorageClass.Name+" to a storage class")
		return false, "", nil
	}
	for _, sc := range list.Items {
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			return true, "", nil
		}
	}
	c.log.Warn("the cluster has no default storage class; node data will not survive restarts",
		"hint", "set "+env.K8sStorageClass.Name+" to a storage class")
	return false, "", nil
}

func (c *Cluster) createNode(ctx context.Context, o nodeObjects) error {
	if _, err := c.client.CoreV1().ConfigMaps(c.ns).Create(ctx, o.ConfigMap, metav1.CreateOptions{}); err != nil {
		return err
	}
	if o.Claim != nil {
		if _, err := c.client.CoreV1().PersistentVolumeClaims(c.ns).Create(ctx, o.Claim, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	_, err := c.client.AppsV1().Deployments(c.ns).Create(ctx, o.Deployment, metav1.CreateOptions{})
	return err
}

// Teardown deletes the namespace (or the run's objects in a given one) and
// waits until it is gone. With K8S_RUNNER_PRESERVE=1 it keeps everything and
// says how to remove it. Safe to call more than once, also concurrently.
func (c *Cluster) Teardown(ctx context.Context) error {
	c.teardownOnce.Do(func() { c.teardownErr = c.teardown(ctx) })
	return c.teardownErr
}

func (c *Cluster) teardown(ctx context.Context) error {
	for _, n := range c.nodes {
		n.fwd.close()
		n.agentFwd.close()
	}
	if c.Faulter.Net != nil {
		c.Faulter.Net.Close()
	}
	if c.preserve {
		what := "kubectl delete namespace " + c.ns
		if !c.ownNS {
			what = fmt.Sprintf("kubectl delete -n %s deployment,service,configmap,pvc -l %s=%s", c.ns, labelRun, c.runID)
		}
		c.log.Info(env.K8sPreserve.Name+" is set: the run's objects are kept", "inspect", "kubectl get all -n "+c.ns, "remove", what)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: labelRun + "=" + c.runID}
	zero := int64(0)
	now := metav1.DeleteOptions{GracePeriodSeconds: &zero}
	bg := metav1.DeletePropagationBackground
	var errs []error
	keep := func(err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	// Deployments first, so no new pod appears; then the pods, at once.
	keep(c.client.AppsV1().Deployments(c.ns).DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &bg}, sel))
	keep(c.client.CoreV1().Pods(c.ns).DeleteCollection(ctx, now, sel))
	if c.ownNS {
		keep(c.client.CoreV1().Namespaces().Delete(ctx, c.ns, metav1.DeleteOptions{PropagationPolicy: &bg}))
	} else {
		keep(c.deleteLabelled(ctx, sel))
	}
	if len(errs) > 0 {
		return fmt.Errorf("k8s teardown of %s: %w", c.ns, errors.Join(errs...))
	}
	if err := c.waitGone(ctx); err != nil {
		return fmt.Errorf("k8s teardown of %s: %w", c.ns, err)
	}
	c.log.Info("k8s run removed")
	return nil
}

func (c *Cluster) deleteLabelled(ctx context.Context, sel metav1.ListOptions) error {
	d := metav1.DeleteOptions{}
	svcs, err := c.client.CoreV1().Services(c.ns).List(ctx, sel)
	if err != nil {
		return err
	}
	// Services have no DeleteCollection.
	for _, s := range svcs.Items {
		if err := c.client.CoreV1().Services(c.ns).Delete(ctx, s.Name, d); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	if err := c.client.CoreV1().ConfigMaps(c.ns).DeleteCollection(ctx, d, sel); err != nil {
		return err
	}
	return c.client.CoreV1().PersistentVolumeClaims(c.ns).DeleteCollection(ctx, d, sel)
}

// waitGone waits until Leftovers finds nothing.
func (c *Cluster) waitGone(ctx context.Context) error {
	for {
		left, err := c.Leftovers(ctx)
		if err == nil && len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("still there: %v", left)
			}
			return fmt.Errorf("waiting for removal: %w", err)
		case <-time.After(c.opts.Poll):
		}
	}
}

// Leftovers lists what of the run still exists: its namespace when the run
// made it, else its labelled pods, deployments, services, config maps and claims.
func (c *Cluster) Leftovers(ctx context.Context) ([]string, error) {
	if c.ownNS {
		_, err := c.client.CoreV1().Namespaces().Get(ctx, c.ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []string{"namespace/" + c.ns}, nil
	}
	sel := metav1.ListOptions{LabelSelector: labelRun + "=" + c.runID}
	var left []string
	pods, err := c.client.CoreV1().Pods(c.ns).List(ctx, sel)
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		left = append(left, "pod/"+p.Name)
	}
	deps, err := c.client.AppsV1().Deployments(c.ns).List(ctx, sel)
	if err != nil {
		return nil, err
	}
	for _, d := range deps.Items {
		left = append(left, "deployment/"+d.Name)
	}
	svcs, err := c.client.CoreV1().Services(c.ns).List(ctx, sel)
	if err != nil {
		return nil, err
	}
	for _, s := range svcs.Items {
		left = append(left, "service/"+s.Name)
	}
	cms, err := c.client.CoreV1().ConfigMaps(c.ns).List(ctx, sel)
	if err != nil {
		return nil, err
	}
	for _, m := range cms.Items {
		left = append(left, "configmap/"+m.Name)
	}
	pvcs, err := c.client.CoreV1().PersistentVolumeClaims(c.ns).List(ctx, sel)
	if err != nil {
		return nil, err
	}
	for _, p := range pvcs.Items {
		left = append(left, "pvc/"+p.Name)
	}
	return left, nil
}
