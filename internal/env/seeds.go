package env

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The variables of the Rust framework nomosrun succeeds that
// nomosrun honours with the Rust framework's meaning. They are listed in All.
var (
	// DemoValidators overrides the validators of a scenario that opts in.
	DemoValidators = Var{"NOMOS_DEMO_VALIDATORS", "", "validators of scenarios that opt in with topology(from_env=True), such as examples/demo.star"}
	// DemoExecutors overrides the executors of a scenario that opts in.
	DemoExecutors = Var{"NOMOS_DEMO_EXECUTORS", "", "executors of scenarios that opt in with topology(from_env=True)"}
	// DemoRunSecs overrides the run window of a scenario that opts in.
	DemoRunSecs = Var{"NOMOS_DEMO_RUN_SECS", "", "run window in seconds of scenarios that opt in with run(from_env=True)"}
	// LocalDemoValidators is the Rust framework's legacy name of NOMOS_DEMO_VALIDATORS.
	LocalDemoValidators = Var{"LOCAL_DEMO_VALIDATORS", "", "legacy name of NOMOS_DEMO_VALIDATORS (which wins when both are set)"}
	// LocalDemoExecutors is the Rust framework's legacy name of NOMOS_DEMO_EXECUTORS.
	LocalDemoExecutors = Var{"LOCAL_DEMO_EXECUTORS", "", "legacy name of NOMOS_DEMO_EXECUTORS (which wins when both are set)"}
	// LocalDemoRunSecs is the Rust framework's legacy name of NOMOS_DEMO_RUN_SECS.
	LocalDemoRunSecs = Var{"LOCAL_DEMO_RUN_SECS", "", "legacy name of NOMOS_DEMO_RUN_SECS (which wins when both are set)"}
	// ComposeNodePairs is the Rust framework's "VxE" shape of scenarios that opt in.
	ComposeNodePairs = Var{"COMPOSE_NODE_PAIRS", "", `"VxE" (e.g. "3x2"): validators and executors of scenarios that opt in, on every runner; NOMOS_DEMO_VALIDATORS and NOMOS_DEMO_EXECUTORS win over it`}
	// TestsTracing turns on debug logging of nomosrun and of the nodes.
	TestsTracing = Var{"NOMOS_TESTS_TRACING", "false", `"true": nomosrun logs at debug level (as with -v) and nodes log at debug level unless NOMOS_LOG_LEVEL is set`}
	// SkipImageBuild makes scripts/run-examples.sh use the node image as it is.
	SkipImageBuild = Var{"NOMOS_SKIP_IMAGE_BUILD", "", `set (not empty, 0 or false): scripts/run-examples.sh does not build the node image for compose and k8s`}
)

// Ignored is a variable of the Rust framework that nomosrun does not read: setting it
// gets one warning at start saying why.
type Ignored struct {
	Name string
	Why  string
	// ScriptOnly: only scripts/run-examples.sh warns, because the name is too
	// common for nomosrun to warn whenever it is set.
	ScriptOnly bool
}

// IgnoredVars are the Rust framework's variables nomosrun ignores, in the order of the
// documentation.
var IgnoredVars = []Ignored{
	{Name: "TEST_FRAMEWORK_PROMETHEUS_PORT", Why: "nomosrun starts no Prometheus; expect_metric reads the nodes' /metrics, or NOMOS_METRICS_QUERY_URL"},
	{Name: "NOMOS_BINARIES_TAR", Why: "there are no binary bundles: the reference node is built into nomosrun (NOMOS_NODE_BIN runs another binary)"},
	{Name: "NOMOS_NODE_REV", Why: "nomosrun builds no nomos-node; versions.env records the revision whose API the reference node follows"},
	{Name: "NOMOS_BUNDLE_VERSION", Why: "there are no binary bundles, so no bundle format version"},
	{Name: "VERSION", Why: "the Rust framework's circuits release; nomosrun generates its KZG test parameters (KZGRS_PARAMS_SHA256 in versions.env pins them)", ScriptOnly: true},
	{Name: "RUST_LOG", Why: "nomosrun is not a Rust program; -v or NOMOS_TESTS_TRACING=true for nomosrun, NOMOS_LOG_LEVEL for the nodes"},
	{Name: "CONSENSUS_SLOT_TIME", Why: "set slot= in topology()"},
	{Name: "CONSENSUS_ACTIVE_SLOT_COEFF", Why: "set active_slot_coeff= in topology()"},
	{Name: "TESTNET_PRINT_ENDPOINTS", Why: "nomosrun always prints the node endpoints of a run it keeps up (nomosrun up, --keep-on-failure)"},
	{Name: "TESTNET_RUNNER_PRESERVE", Why: "use COMPOSE_RUNNER_PRESERVE=1 or K8S_RUNNER_PRESERVE=1"},
	{Name: "NOMOS_USE_AUTONAT", Why: "the reference node has no NAT traversal; runners give it its addresses"},
	{Name: "NOMOS_CFGSYNC_PORT", Why: "there is no cfgsync: runners render every node's config before start"},
	{Name: "NOMOS_TIME_BACKEND", Why: "the reference node's slots come from the chain start time and the host clock"},
	{Name: "COMPOSE_RUNNER_HTTP_TIMEOUT_SECS", Why: "readiness timeouts are fixed; SLOW_TEST_ENV=true doubles them"},
	{Name: "K8S_RUNNER_RELEASE", Why: "there is no Helm release; K8S_RUNNER_NAMESPACE names the namespace"},
	{Name: "K8S_RUNNER_DEBUG", Why: "there is no Helm output; -v logs the runner's steps"},
	{Name: "K8S_RUNNER_HTTP_TIMEOUT_SECS", Why: "use K8S_RUNNER_DEPLOYMENT_TIMEOUT_SECS and K8S_RUNNER_HTTP_PROBE_TIMEOUT_SECS"},
	{Name: "K8S_RUNNER_HTTP_POLL_INTERVAL_SECS", Why: "the poll interval is fixed"},
	{Name: "CUCUMBER_DEPLOYER_COMPOSE", Why: "there are no Cucumber runners; pass --runner compose"},
	{Name: "LOGOS_BLOCKCHAIN_*", Why: "the later names of the Rust framework's variables; nomosrun reads the NOMOS_ names of docs/environment.md"},
}

// Warnings returns one line per ignored variable that is set in the
// environment, naming it and why it is ignored. A name ending in "*" stands
// for every variable with that prefix.
func Warnings() []string {
	var out []string
	for _, v := range IgnoredVars {
		if v.ScriptOnly {
			continue
		}
		for _, name := range setNames(v.Name) {
			out = append(out, fmt.Sprintf("%s is ignored: %s", name, v.Why))
		}
	}
	return out
}

// setNames returns the variables pattern names that are set and not empty,
// sorted: pattern itself, or those it is a prefix of when it ends in "*".
func setNames(pattern string) []string {
	prefix, isPrefix := strings.CutSuffix(pattern, "*")
	var out []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(v) == "" {
			continue
		}
		if k == pattern || isPrefix && strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Shape is the topology and run window the environment gives scenarios that
// opt in. A nil field is not set.
type Shape struct {
	Validators, Executors *int
	Run                   *time.Duration
	// From names the variable behind each field, for messages and the plan:
	// "validators", "executors" and "run" map to a variable name.
	From map[string]string
}

// ReadShape reads NOMOS_DEMO_VALIDATORS, NOMOS_DEMO_EXECUTORS,
// NOMOS_DEMO_RUN_SECS, their LOCAL_DEMO_* legacy names and
// COMPOSE_NODE_PAIRS. The NOMOS_DEMO_* names win over the legacy names,
// which win over COMPOSE_NODE_PAIRS. A malformed value is an error.
func ReadShape() (Shape, error) {
	s := Shape{From: map[string]string{}}
	if v := ComposeNodePairs.Get(); v != "" {
		val, exe, err := ParsePairs(v)
		if err != nil {
			return Shape{}, fmt.Errorf("%s=%s: %w", ComposeNodePairs.Name, v, err)
		}
		s.Validators, s.Executors = &val, &exe
		s.From["validators"], s.From["executors"] = ComposeNodePairs.Name, ComposeNodePairs.Name
	}
	count := func(field string, min int, vars ...Var) (*int, error) {
		for _, v := range vars {
			raw := v.Get()
			if raw == "" {
				continue
			}
			n, err := strconv.Atoi(raw)
			if err != nil || n < min {
				return nil, fmt.Errorf("%s=%s: want a whole number of at least %d", v.Name, raw, min)
			}
			s.From[field] = v.Name
			return &n, nil
		}
		return nil, nil
	}
	if n, err := count("validators", 1, DemoValidators, LocalDemoValidators); err != nil {
		return Shape{}, err
	} else if n != nil {
		s.Validators = n
	}
	if n, err := count("executors", 0, DemoExecutors, LocalDemoExecutors); err != nil {
		return Shape{}, err
	} else if n != nil {
		s.Executors = n
	}
	if n, err := count("run", 1, DemoRunSecs, LocalDemoRunSecs); err != nil {
		return Shape{}, err
	} else if n != nil {
		d := time.Duration(*n) * time.Second
		s.Run = &d
	}
	return s, nil
}

// ParsePairs parses COMPOSE_NODE_PAIRS: "VxE" with at least one validator,
// "x" in either case or "×" between the counts.
func ParsePairs(s string) (validators, executors int, err error) {
	s = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "×", "x")
	v, e, ok := strings.Cut(s, "x")
	if ok {
		validators, err = strconv.Atoi(strings.TrimSpace(v))
	}
	if ok && err == nil {
		executors, err = strconv.Atoi(strings.TrimSpace(e))
	}
	if !ok || err != nil || validators < 1 || executors < 0 {
		return 0, 0, fmt.Errorf(`want "VALIDATORSxEXECUTORS" with at least one validator, e.g. "2x1"`)
	}
	return validators, executors, nil
}

// FromSeeds are the names of All that the Rust framework also read, with the same
// meaning; the documentation marks them so users of the Rust framework find theirs.
var FromSeeds = []string{
	SlowTest.Name, KeepLogs.Name, LogDir.Name, LogLevel.Name, LogFilter.Name, NodeBin.Name, ExecutorBin.Name,
	DevMode.Name, KZGParams.Name, Image.Name, ImagePullPolicy.Name, ComposeHost.Name, ComposePreserve.Name,
	K8sPreserve.Name, K8sNamespace.Name, K8sNodeHost.Name, K8sDeployTimeout.Name, K8sProbeTimeout.Name,
	MetricsQueryURL.Name, GrafanaURL.Name,
	DemoValidators.Name, DemoExecutors.Name, DemoRunSecs.Name, LocalDemoValidators.Name, LocalDemoExecutors.Name,
	LocalDemoRunSecs.Name, ComposeNodePairs.Name, TestsTracing.Name, SkipImageBuild.Name,
}
