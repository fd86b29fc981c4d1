package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	k8sassets "github.com/nomosrun/nomosrun/assets/k8s"
	"github.com/nomosrun/nomosrun/nodeimage"
)

// Container ports of every node. Each pod has its own IP, so they are fixed.
const (
	portAPI     = 18080
	portTesting = 18081
	portP2P     = 3000
)

// Paths inside the node image (see nodeimage): the kind renders the node's
// files for configDir and its database for dataDir.
const (
	dataDir   = nodeimage.DataDir
	configDir = nodeimage.ConfigDir
)

// referenceReadyPath is the reference node's route that answers once it
// runs; pods of other kinds are ready when their API port accepts.
const referenceReadyPath = "/cryptarchia/info"

// Ports are the ports a node's container listens on (also its Service ports).
type Ports struct{ API, Testing, P2P int }

// Resources are a node container's requests and limits and its volume size.
type Resources struct{ CPURequest, MemoryRequest, MemoryLimit, Storage string }

// defaultResources fit 20 nodes on a 2-core test machine; the node needs far
// less than the limit.
var defaultResources = Resources{CPURequest: "50m", MemoryRequest: "64Mi", MemoryLimit: "512Mi", Storage: "256Mi"}

// EnvVar is one environment variable of a node container.
type EnvVar struct{ Name, Value string }

// nodeData is what one node's manifests are rendered from.
type nodeData struct {
	Namespace, RunID  string
	Node, Role        string
	Image, PullPolicy string
	Command           []string // overrides the image's entrypoint
	Args              []string // the node kind's rendered arguments
	// ConfigData and ConfigBinary map ConfigMap keys to the node's rendered
	// files (base64 in ConfigBinary, for files that are not UTF-8);
	// ConfigItems maps the keys to the files' paths, nil when each key is
	// its path.
	ConfigData   map[string]string
	ConfigBinary map[string]string
	ConfigItems  []configItem
	// Install fills a writable home at ConfigDir before the node starts;
	// nil mounts the ConfigMap there read-only.
	Install      *installSpec
	ReadyPath    string // the HTTP readiness route; "" probes the API port over TCP
	Env          []EnvVar
	Ports        Ports
	ServiceType  string
	StorageClass string
	Claim        bool   // a PersistentVolumeClaim for the data directory, else emptyDir
	DataDir      string // the node's data directory
	ConfigDir    string // the node's config directory (its home)
	Resources    Resources
	NetAgent     *netAgentSpec // the network agent beside the node, when faults may use the kernel
	Owner        string        // the namespace's owner annotation (internal/owner)
}

// netAgentSpec is the network agent's container in a node's pod.
type netAgentSpec struct {
	Container string
	Command   []string
	Port      int
}

// nodeObjects are the objects of one node.
type nodeObjects struct {
	ConfigMap  *corev1.ConfigMap
	Service    *corev1.Service
	Claim      *corev1.PersistentVolumeClaim // nil without a claim
	Deployment *appsv1.Deployment
}

// templates are the parsed assets/k8s templates.
var templates = func() *template.Template {
	t := template.New("k8s")
	t.Funcs(template.FuncMap{
		"quote": func(s string) string { b, _ := json.Marshal(s); return string(b) },
		"json":  func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err },
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"include": func(name string, data any) (string, error) {
			var b bytes.Buffer
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
	})
	return template.Must(t.ParseFS(k8sassets.Templates, "*.yaml"))
}()

// render executes one template file.
func render(file string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, file, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", file, err)
	}
	return b.Bytes(), nil
}

// decode renders file and decodes it into obj, rejecting unknown fields so a
// template typo cannot pass silently.
func decode(file string, data any, obj any) error {
	b, err := render(file, data)
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(b, obj); err != nil {
		return fmt.Errorf("decode %s: %w\n%s", file, err, b)
	}
	return nil
}

// renderNamespace renders the run's namespace.
func renderNamespace(d nodeData) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	return ns, decode("namespace.yaml", d, ns)
}

// renderService renders a node's Service (needed first: its ClusterIP goes in
// the peers' configs).
func renderService(d nodeData) (*corev1.Service, error) {
	s := &corev1.Service{}
	return s, decode("service.yaml", d, s)
}

// renderNode renders every object of one node.
func renderNode(d nodeData) (nodeObjects, error) {
	o := nodeObjects{ConfigMap: &corev1.ConfigMap{}, Deployment: &appsv1.Deployment{}}
	var err error
	if o.Service, err = renderService(d); err != nil {
		return o, err
	}
	if err := decode("configmap.yaml", d, o.ConfigMap); err != nil {
		return o, err
	}
	if d.Claim {
		o.Claim = &corev1.PersistentVolumeClaim{}
		if err := decode("pvc.yaml", d, o.Claim); err != nil {
			return o, err
		}
	}
	return o, decode("deployment.yaml", d, o.Deployment)
}
