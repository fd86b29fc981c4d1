package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// ManualRunID labels the objects of manifests written for applying by hand.
const ManualRunID = "manual"

// WriteManifests writes what the runner would create for plan p as YAML
// files in dir, for `kubectl apply -f dir`: 00-namespace.yaml and one file per
// node (Service, ConfigMap, PersistentVolumeClaim unless storage is "none",
// Deployment). Unlike a run, peers dial each other by Service DNS name
// (<node>.<namespace>.svc), so the cluster needs DNS. The chain starts at
// chainStart; apply the files soon after writing them. It returns the paths.
func (r *Runner) WriteManifests(p *plan.Plan, dir string, chainStart time.Time) ([]string, error) {
	if p == nil || len(p.Topology.Nodes) == 0 {
		return nil, errors.New("k8s manifests: the plan has no nodes")
	}
	c := newCluster(r.opts, nil, nil, ManualRunID, nil)
	if c.opts.Namespace == "" {
		c.ns = "nomosrun"
	}
	kind, err := c.useKind(p)
	if err != nil {
		return nil, fmt.Errorf("k8s manifests: %w", err)
	}
	dial := make([]string, len(p.Topology.Nodes))
	for i, n := range p.Topology.Nodes {
		dial[i] = n.Name + "." + c.ns + ".svc"
	}
	launches, err := renderLaunches(kind, p, chainStart, dial)
	if err != nil {
		return nil, fmt.Errorf("k8s manifests: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("k8s manifests: %w", err)
	}
	ns, err := render("namespace.yaml", nodeData{Namespace: c.ns, RunID: c.runID})
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"00-namespace.yaml": ns}
	order := []string{"00-namespace.yaml"}
	for i, n := range p.Topology.Nodes {
		d := c.data(n)
		if err := d.setLaunch(launches[i]); err != nil {
			return nil, fmt.Errorf("k8s manifests: %s: %w", n.Name, err)
		}
		d.Claim = r.opts.StorageClass != "none"
		d.StorageClass = r.opts.StorageClass
		if d.StorageClass == "none" {
			d.StorageClass = ""
		}
		// Decode first: the written files hold only objects that parse.
		if _, err := renderNode(d); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		kinds := []string{"service.yaml", "configmap.yaml", "pvc.yaml", "deployment.yaml"}
		for _, k := range kinds {
			if k == "pvc.yaml" && !d.Claim {
				continue
			}
			out, err := render(k, d)
			if err != nil {
				return nil, err
			}
			b.WriteString("---\n")
			b.Write(bytes.TrimSpace(out))
			b.WriteString("\n")
		}
		name := fmt.Sprintf("%02d-%s.yaml", i+1, n.Name)
		files[name] = b.Bytes()
		order = append(order, name)
	}
	var paths []string
	for _, name := range order {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return nil, fmt.Errorf("k8s manifests: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
