// Package env names every environment variable nomosrun and its tests read,
// with what each one means, so a variable is declared and parsed in one
// place. Packages read a variable through Get or the typed helpers here,
// never through os.Getenv with a literal name.
package env

import (
	"os"
	"strings"
	"time"
)

// Var is one environment variable: its name, its default and what it does.
type Var struct {
	Name    string
	Default string
	Doc     string
}

// The variables, grouped by who reads them.
var (
	// SlowTest doubles every start, stop and readiness timeout on slow machines.
	SlowTest = Var{"SLOW_TEST_ENV", "false", `"true" doubles start, stop and readiness timeouts`}
	// KeepLogs keeps a successful run's directory (logs, configs) instead of removing it.
	KeepLogs = Var{"NOMOS_TESTS_KEEP_LOGS", "", "set (not empty, 0 or false): keep the run directory of a successful run"}
	// LogDir is where nodes write their log files.
	LogDir = Var{"NOMOS_LOG_DIR", "", "directory of the nodes' log files nomos-node-{i}.log and nomos-executor-{i}.log: on the host, else inside each container or pod (host default: the run directory's logs/)"}
	// LogLevel is the node's log level.
	LogLevel = Var{"NOMOS_LOG_LEVEL", "info", "the node's log level"}
	// LogFilter is the node's per-target log filter.
	LogFilter = Var{"NOMOS_LOG_FILTER", "", "the node's per-target log filter"}
	// NodeBin replaces the reference node embedded in nomosrun for validators.
	NodeBin = Var{"NOMOS_NODE_BIN", "", "node binary for validators (and executors unless NOMOS_EXECUTOR_BIN is set)"}
	// CometBFTBin is the cometbft binary of the cometbft node kind.
	CometBFTBin = Var{"NOMOS_COMETBFT_BIN", "", "cometbft binary of the cometbft node kind on the host runner and in its image (default: the build of tools/cometbft/build.sh, then cometbft on PATH)"}
	// HostNetwork chooses how the host runner networks its nodes.
	HostNetwork = Var{"NOMOS_HOST_NETWORK", "auto", `host runner networking: "loopback" (every node on 127.0.0.1), "netns" (a network namespace per node on a private bridge; needs CAP_NET_ADMIN and CAP_SYS_ADMIN) or "auto" (netns when permitted, else loopback)`}
	// AttachEndpoints is the network the attach runner drives.
	AttachEndpoints = Var{"NOMOS_ATTACH_ENDPOINTS", "", "attach runner: the endpoints.json of a running network (written by nomosrun up, or by hand), or the run directory holding it"}
	// ExecutorBin is the node binary for executors.
	ExecutorBin = Var{"NOMOS_EXECUTOR_BIN", "", "node binary for executors"}
	// DevMode makes nodes accept fake proofs.
	DevMode = Var{"POL_PROOF_DEV_MODE", "true", "boolean: nodes accept dev-mode proofs"}
	// KZGParams is the path of the DA commitment parameters.
	KZGParams = Var{"NOMOS_KZGRS_PARAMS_PATH", "", "path of the KZG parameters file for DA"}
	// Image is the node image of the compose and k8s runners.
	Image = Var{"NOMOS_TESTNET_IMAGE", "versions.env's NOMOS_TESTNET_IMAGE", "node image of the compose and k8s runners"}
	// ImagePullPolicy is the k8s pull policy of the node image.
	ImagePullPolicy = Var{"NOMOS_TESTNET_IMAGE_PULL_POLICY", "IfNotPresent", "pull policy of the node image on Kubernetes"}
	// ComposeHost is the host address compose publishes node API ports on.
	ComposeHost = Var{"COMPOSE_RUNNER_HOST", "127.0.0.1", "host address the compose runner publishes API ports on"}
	// ComposePreserve keeps the compose stack after the run.
	// ComposeCLI picks the Compose command of the compose runner.
	ComposeCLI      = Var{"NOMOS_COMPOSE_CLI", "", `the compose runner's Compose command: "docker compose" (the v2 plugin) or a docker-compose binary (v1, or v2 run standalone); default: the plugin when it answers, else docker-compose on PATH`}
	ComposePreserve = Var{"COMPOSE_RUNNER_PRESERVE", "", `"1" keeps the compose stack after the run`}
	// K8sPreserve keeps the Kubernetes namespace after the run.
	K8sPreserve = Var{"K8S_RUNNER_PRESERVE", "", `"1" keeps the Kubernetes namespace after the run`}
	// K8sNamespace is the namespace the k8s runner deploys into.
	K8sNamespace = Var{"K8S_RUNNER_NAMESPACE", "nomosrun-<run id>", "namespace the k8s runner deploys into"}
	// K8sNodeHost is the host serving the node NodePorts.
	K8sNodeHost = Var{"K8S_RUNNER_NODE_HOST", "the API server's host", "host the k8s runner reaches NodePorts on"}
	// K8sPortForward makes the k8s runner port-forward instead of using NodePorts.
	K8sPortForward = Var{"K8S_RUNNER_PORT_FORWARD", "", `"1": skip NodePorts, always port-forward`}
	// K8sDeployTimeout bounds the wait for ready pods, in seconds.
	K8sDeployTimeout = Var{"K8S_RUNNER_DEPLOYMENT_TIMEOUT_SECS", "180", "seconds the k8s runner waits for ready pods (doubled by SLOW_TEST_ENV)"}
	// K8sProbeTimeout bounds the NodePort probe before port-forwarding, in seconds.
	K8sProbeTimeout = Var{"K8S_RUNNER_HTTP_PROBE_TIMEOUT_SECS", "10", "seconds the k8s runner probes a NodePort before port-forwarding"}
	// K8sStorageClass is the storage class of the node data volumes.
	K8sStorageClass = Var{"K8S_RUNNER_STORAGE_CLASS", "", `storage class of the node data volumes ("none": emptyDir; unset: the cluster's default)`}
	// MetricsQueryURL is a Prometheus-compatible query endpoint for expect_metric.
	MetricsQueryURL = Var{"NOMOS_METRICS_QUERY_URL", "", "Prometheus query endpoint used by expect_metric instead of an embedded one"}
	// OTLPEndpoint receives each run's trace and the reference nodes' traces.
	OTLPEndpoint = Var{"NOMOS_OTLP_ENDPOINT", "", "OTLP/HTTP endpoint (http://localhost:4318) that nomosrun sends each run's trace to, and the reference nodes their traces; unset: no telemetry, no connection"}
	// OTLPMetricsEndpoint receives the reference nodes' metrics.
	OTLPMetricsEndpoint = Var{"NOMOS_OTLP_METRICS_ENDPOINT", "", "OTLP/HTTP endpoint the reference nodes push their metrics to; unset: none pushed"}
	// MetricsOTLPIngestURL is where nodes push metrics when OTLPMetricsEndpoint is unset.
	MetricsOTLPIngestURL = Var{"NOMOS_METRICS_OTLP_INGEST_URL", "", "OTLP metrics ingest URL (a Prometheus OTLP receiver's .../api/v1/otlp/v1/metrics) the reference nodes push to when NOMOS_OTLP_METRICS_ENDPOINT is unset"}
	// MetricExportInterval spaces the reference nodes' metric exports.
	MetricExportInterval = Var{"OTEL_METRIC_EXPORT_INTERVAL", "60000", "milliseconds between the reference nodes' OTLP metric exports (passed to the nodes)"}
	// GrafanaURL is linked from the report.
	GrafanaURL = Var{"NOMOS_GRAFANA_URL", "", "Grafana base URL linked from the report"}
	// PrometheusBin is the Prometheus binary the metric tests run.
	PrometheusBin = Var{"NOMOS_PROMETHEUS_BIN", "", "Prometheus binary for the metric tests"}
	// VMKernel is the kernel image the in-VM tests boot under qemu.
	VMKernel = Var{"NOMOS_VM_KERNEL", "", "kernel image (vmlinuz) the in-VM kernel tests boot under qemu (set by tools/ci.d/40-vmkernel.sh)"}
	// VMModules is the module tree of that kernel.
	VMModules = Var{"NOMOS_VM_MODULES", "", "module directory (lib/modules/VERSION) of NOMOS_VM_KERNEL"}
	// ContainerdAddress is the containerd socket the image load tests try first.
	ContainerdAddress = Var{"CONTAINERD_ADDRESS", "", "containerd socket the image load tests try before the usual paths"}
)

// All lists every variable, in the order of the documentation.
var All = []Var{SlowTest, KeepLogs, LogDir, LogLevel, LogFilter, NodeBin, ExecutorBin, CometBFTBin, HostNetwork, AttachEndpoints,
	DevMode, KZGParams, Image, ImagePullPolicy, ComposeHost, ComposeCLI, ComposePreserve, K8sPreserve,
	K8sNamespace, K8sNodeHost, K8sPortForward, K8sDeployTimeout, K8sProbeTimeout, K8sStorageClass,
	MetricsQueryURL, GrafanaURL, OTLPEndpoint, OTLPMetricsEndpoint, MetricsOTLPIngestURL, MetricExportInterval, PrometheusBin, VMKernel, VMModules, ContainerdAddress,
	DemoValidators, DemoExecutors, DemoRunSecs, LocalDemoValidators, LocalDemoExecutors, LocalDemoRunSecs,
	ComposeNodePairs, TestsTracing, SkipImageBuild}

// Get returns the variable's value with surrounding space trimmed ("" when unset).
func (v Var) Get() string { return strings.TrimSpace(os.Getenv(v.Name)) }

// Lookup is Get that also says whether the variable is set.
func (v Var) Lookup() (string, bool) {
	s, ok := os.LookupEnv(v.Name)
	return strings.TrimSpace(s), ok
}

// True reports whether the variable says yes: "1", "true" or "yes" in any case.
func (v Var) True() bool { return IsTrue(v.Get()) }

// Set reports whether the variable holds anything but an empty string,
// "0" or "false".
func (v Var) Set() bool {
	s := v.Get()
	return s != "" && s != "0" && !strings.EqualFold(s, "false")
}

// IsTrue reports whether s says yes: "1", "true" or "yes" in any case.
func IsTrue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes")
}

// Scaled returns d, doubled when SLOW_TEST_ENV says the machine is slow.
func Scaled(d time.Duration) time.Duration { return ScaledBy(SlowTest.Get(), d) }

// ScaledBy is Scaled for a SLOW_TEST_ENV value read elsewhere (a test's
// environment function).
func ScaledBy(slow string, d time.Duration) time.Duration {
	if IsTrue(slow) {
		return 2 * d
	}
	return d
}
