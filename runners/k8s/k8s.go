// Package k8s runs a plan's nodes on a Kubernetes cluster through client-go:
// any cluster the current kubeconfig reaches (KUBECONFIG, else ~/.kube/config).
//
// A run gets its own namespace (K8S_RUNNER_NAMESPACE to choose it), and each
// node gets, all labelled nomosrun.io/run=<id>:
//
//	ConfigMap  <node>-config   the files its node kind rendered, mounted at /config,
//	                           so restarts keep them
//	Service    <node>          NodePort; its ClusterIP is the address peers dial
//	PVC        <node>-data     its data directory, when the cluster has a default
//	                           StorageClass (else an emptyDir: restarts lose data)
//	Deployment <node>          one replica, readiness probe on the node API
//
// The pods run the image of the plan's node kind (nodekind.ImageOf) with the
// arguments the kind rendered. A kind whose node writes into its config
// directory (CometBFT's home) gets that directory on its data volume
// instead, filled from the ConfigMap by an init container that runs the
// image's reference node binary (install-files) before the node starts.
//
// Peers dial Service ClusterIPs, known before any pod starts, so the cluster
// needs no DNS. nomosrun reaches each node's APIs on its NodePorts at the
// node host (K8S_RUNNER_NODE_HOST, default the API server's host) and, when
// those do not answer, through port-forwards of client-go.
//
// The namespace is deleted on every exit path unless K8S_RUNNER_PRESERVE=1.
package k8s

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners"
)

// Name is the runner's name as given to --runner.
const Name = "k8s"

// passthroughEnv are handed from nomosrun's environment to every node.
var passthroughEnv = []string{env.LogLevel.Name, env.LogFilter.Name, env.DevMode.Name,
	env.OTLPEndpoint.Name, env.OTLPMetricsEndpoint.Name, env.MetricsOTLPIngestURL.Name, env.MetricExportInterval.Name}

func init() {
	runners.Register(runners.Info{
		Name: Name, Doc: "nodes as pods in a Kubernetes cluster",
		// Restart, kill and stop/start are pod deletes and scaling; pause execs
		// SIGSTOP/SIGCONT in the node's pod (see pause.go); logs are pod logs;
		// isolate, partition and latency go through a network agent beside
		// each node when the plan may need it (netagent.go), else, like clock
		// skew, through the node's fault hooks.
		Caps: plan.NewCapabilities(
			plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapLogs,
			plan.CapIsolate, plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapDA, plan.CapKernelNetwork,
		),
		Checks: []string{"kubeconfig", "cluster"},
		New:    func() (runners.Runner, error) { return New(Options{}) },
		NetworkFaults: func() string {
			return "in the kernel, by a network agent with NET_ADMIN beside each node " +
				"(the namespace must admit privileged pods; a delay only where the nodes' kernel has sch_netem)"
		},
	})
}

// Options configure the runner. Zero fields take their defaults, most from
// the environment (the K8S_RUNNER_* and NOMOS_TESTNET_IMAGE* variables of
// internal/env).
type Options struct {
	// Client talks to the cluster. Default: from the kubeconfig.
	Client kubernetes.Interface
	// Config is the REST config of Client, for port-forwards. Default: from
	// the kubeconfig. Without it NodePorts must answer.
	Config *rest.Config
	// Namespace to deploy into. Default: a new nomosrun-<run id>.
	Namespace string
	// Image of reference nodes (another kind's nodes run its own image, see
	// nodekind.ImageOf) and the pull policy of every image.
	Image, PullPolicy string
	// Command overrides the image's entrypoint; the arguments the node
	// kind rendered follow it.
	Command []string
	// NodeHost serves the NodePorts. Default: the API server's host.
	NodeHost string
	// PortForward skips NodePorts.
	PortForward bool
	// StorageClass of the data volumes: "" for the cluster's default (an
	// emptyDir when it has none), "none" for emptyDir.
	StorageClass string
	// Preserve keeps the namespace at Teardown.
	Preserve bool
	// DeployTimeout bounds the wait for ready pods (default 180 s), also per
	// node on Restart and Start. ProbeTimeout bounds the NodePort probe.
	DeployTimeout, ProbeTimeout time.Duration
	// Resources of each node container.
	Resources Resources
	// Poll is the interval of status polls (default 250 ms).
	Poll time.Duration
}

// Runner deploys plans on a Kubernetes cluster.
type Runner struct{ opts Options }

var _ runners.Runner = (*Runner)(nil)

// New returns a k8s runner. It reads the environment and the kubeconfig but
// does not contact the cluster.
func New(opts Options) (*Runner, error) {
	if opts.Namespace == "" {
		opts.Namespace = env.K8sNamespace.Get()
	}
	if opts.Image == "" {
		opts.Image = nodeimage.DefaultTag()
	}
	if opts.PullPolicy == "" {
		opts.PullPolicy = env.ImagePullPolicy.Get()
	}
	if opts.PullPolicy == "" {
		opts.PullPolicy = env.ImagePullPolicy.Default
	}
	switch opts.PullPolicy {
	case "IfNotPresent", "Never", "Always":
	default:
		return nil, fmt.Errorf("%s=%q: want IfNotPresent, Never or Always", env.ImagePullPolicy.Name, opts.PullPolicy)
	}
	if opts.NodeHost == "" {
		opts.NodeHost = env.K8sNodeHost.Get()
	}
	opts.PortForward = opts.PortForward || env.K8sPortForward.Set()
	opts.Preserve = opts.Preserve || env.K8sPreserve.Set()
	if opts.StorageClass == "" {
		opts.StorageClass = env.K8sStorageClass.Get()
	}
	var err error
	if opts.DeployTimeout == 0 {
		if opts.DeployTimeout, err = seconds(env.K8sDeployTimeout); err != nil {
			return nil, err
		}
		opts.DeployTimeout = env.Scaled(opts.DeployTimeout)
	}
	if opts.ProbeTimeout == 0 {
		if opts.ProbeTimeout, err = seconds(env.K8sProbeTimeout); err != nil {
			return nil, err
		}
	}
	if opts.Resources == (Resources{}) {
		opts.Resources = defaultResources
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	return &Runner{opts: opts}, nil
}

// seconds reads a variable holding a positive number of seconds; unset, it
// is the variable's default.
func seconds(v env.Var) (time.Duration, error) {
	s := v.Get()
	if s == "" {
		s = v.Default
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number of seconds", v.Name, s)
	}
	return time.Duration(n) * time.Second, nil
}

// connect fills in the client and its config from the kubeconfig.
func (r *Runner) connect() (kubernetes.Interface, *rest.Config, error) {
	if r.opts.Client != nil {
		return r.opts.Client, r.opts.Config, nil
	}
	cfg, err := LoadConfig()
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, cfg, nil
}

// LoadConfig reads the current kubeconfig (KUBECONFIG, else ~/.kube/config)
// into a client config.
func LoadConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no usable Kubernetes cluster: %w (point KUBECONFIG at a kubeconfig file; "+
			"tools/k8s/up.sh starts a local test cluster)", err)
	}
	// A run makes a few calls per node; the default of 5/s would throttle 20 nodes.
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// Name returns "k8s".
func (r *Runner) Name() string { return Name }

// newRunID returns a short random id: namespaces and labels carry it.
func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// nodeHost is where NodePorts are tried: the option, else the API server's host.
func (r *Runner) nodeHost(cfg *rest.Config) string {
	if r.opts.NodeHost != "" {
		return r.opts.NodeHost
	}
	if cfg != nil {
		if u, err := url.Parse(cfg.Host); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	return "127.0.0.1"
}

// Deploy creates the run's objects and returns once every pod is ready and
// its APIs answer from here. On error nothing is left behind (unless
// K8S_RUNNER_PRESERVE=1).
func (r *Runner) Deploy(ctx context.Context, spec runners.DeploySpec) (runners.Cluster, error) {
	if spec.Plan == nil {
		return nil, errors.New("k8s deploy: no plan")
	}
	if len(spec.Plan.Topology.Nodes) == 0 {
		return nil, errors.New("k8s deploy: the topology has no nodes")
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, cfg, err := r.connect()
	if err != nil {
		return nil, fmt.Errorf("k8s deploy: %w", err)
	}
	c := newCluster(r.opts, client, cfg, newRunID(), log)
	if err := c.deploy(ctx, spec, r.nodeHost(cfg)); err != nil {
		if c.preserve {
			log.Warn("k8s deploy failed; namespace kept", "namespace", c.ns, "delete", "kubectl delete namespace "+c.ns)
		}
		_ = c.Teardown(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("k8s deploy: %w", err)
	}
	return c, nil
}

// hostPort joins a host and port for URLs.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
