package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// TargetsFile is the file, in a run directory, listing the nodes' /metrics
// endpoints in Prometheus file_sd format.
const TargetsFile = "prometheus-targets.json"

// Target is one node as this package sees it, in Prometheus' word: a name
// and role to select and label by, and where its /metrics page is. It is a
// view of an engine node, so this package needs no node client.
type Target struct {
	Name, Role string
	// API is the node's API base URL; Prometheus scrapes /metrics below it.
	API string
	// Scrape reads the node's /metrics page (text exposition format), for
	// the Scrape querier; the engine's version retries a node that is
	// briefly unreachable.
	Scrape func(ctx context.Context) (string, error)
}

type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// WriteTargets writes the targets in Prometheus file_sd format, one group
// per node labelled node and role, atomically (Prometheus watches the file
// and must never read half of it).
func WriteTargets(path string, targets []Target) error {
	groups := make([]targetGroup, 0, len(targets))
	for _, t := range targets {
		u, err := url.Parse(t.API)
		if err != nil || u.Host == "" {
			return fmt.Errorf("node %s: API %q is not a URL", t.Name, t.API)
		}
		groups = append(groups, targetGroup{Targets: []string{u.Host}, Labels: map[string]string{
			"node": t.Name, "role": t.Role, "__scheme__": u.Scheme,
			"__metrics_path__": strings.TrimSuffix(u.Path, "/") + "/metrics",
		}})
	}
	b, err := json.MarshalIndent(groups, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
