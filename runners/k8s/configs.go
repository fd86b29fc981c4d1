package k8s

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/installfiles"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
)

// A node whose kind writes into its config directory gets a writable home
// there, on its data volume, filled by an init container from the
// ConfigMap, which that container mounts read-only at installSource.
const (
	installContainer = "install-config"
	installSource    = "/rendered"
)

// configItem maps a ConfigMap key to the file's path in the volume.
type configItem struct{ Key, Path string }

// installSpec is the init container that fills a writable home.
type installSpec struct {
	Container string
	Command   []string
	Source    string // where it mounts the ConfigMap
}

// renderLaunches renders every node's files and arguments with kind, in
// topology order. Nodes listen on all interfaces of their pod at the fixed
// ports; peers dial dialHosts[i] (a Service ClusterIP, or a DNS name for
// hand-applied manifests).
func renderLaunches(kind nodekind.Kind, p *plan.Plan, chainStart time.Time, dialHosts []string) ([]nodekind.Launch, error) {
	all := func(port int) string { return net.JoinHostPort("0.0.0.0", strconv.Itoa(port)) }
	launches, err := kind.Render(nodekind.RenderSpec{
		Plan: p, ChainStart: chainStart,
		Place: func(i int, _ plan.Node) nodekind.Placement {
			return nodekind.Placement{
				API: all(portAPI), Aux: all(portTesting), P2PListen: all(portP2P),
				P2PDial:   net.JoinHostPort(dialHosts[i], strconv.Itoa(portP2P)),
				ConfigDir: configDir, DataDir: dataDir,
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("generate node configs: %w", err)
	}
	if len(launches) != len(p.Topology.Nodes) {
		return nil, fmt.Errorf("generate node configs: the %s node kind rendered %d nodes of %d", kind.Name(), len(launches), len(p.Topology.Nodes))
	}
	return launches, nil
}

// setLaunch puts a node's rendered start into its template data: every
// file in its ConfigMap, the arguments after the image's entrypoint, and,
// when the node writes into its config directory, the init container that
// copies the files into its home.
func (d *nodeData) setLaunch(l nodekind.Launch) error {
	if len(l.Files) == 0 {
		return errors.New("the node kind rendered no config files")
	}
	d.Args = l.Args
	d.ConfigData, d.ConfigBinary, d.ConfigItems = map[string]string{}, nil, nil
	paths := make([]string, 0, len(l.Files))
	for p := range l.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	mapped := false
	for _, p := range paths {
		key, err := configKey(p)
		if err != nil {
			return err
		}
		body := l.Files[p]
		if utf8.Valid(body) {
			d.ConfigData[key] = string(body)
		} else {
			if d.ConfigBinary == nil {
				d.ConfigBinary = map[string]string{}
			}
			d.ConfigBinary[key] = base64.StdEncoding.EncodeToString(body)
		}
		d.ConfigItems = append(d.ConfigItems, configItem{Key: key, Path: p})
		mapped = mapped || key != p
	}
	// A volume without items holds every key as a file of that name: the
	// reference node's node.yaml needs no map.
	if !mapped {
		d.ConfigItems = nil
	}
	d.Install = nil
	if l.WritableConfig {
		d.Install = &installSpec{
			Container: installContainer,
			Command:   []string{nodeimage.BinaryPath, installfiles.Command, installSource, d.ConfigDir},
			Source:    installSource,
		}
	}
	return nil
}

// configKey is the ConfigMap key of a file's path relative to the config
// directory. Keys hold no "/", so "/" becomes "_-" and "_" is doubled,
// which keeps every path's key distinct: config/config.toml is
// config_-config.toml. The volume's items map each key back to its path.
func configKey(p string) (string, error) {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("config file %q: want a clean path relative to the config directory", p)
	}
	key := strings.NewReplacer("_", "__", "/", "_-").Replace(p)
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return "", fmt.Errorf("config file %q cannot be a ConfigMap key %q: %s", p, key, strings.Join(errs, "; "))
	}
	return key, nil
}

// writeLaunches keeps every node's rendered files in dir for the run's
// record: dir/<node>.yaml for a node configured by one file (the reference
// node), else the files under dir/<node>/.
func writeLaunches(dir string, nodes []plan.Node, launches []nodekind.Launch) error {
	for i, l := range launches {
		name := nodes[i].Name
		for p, body := range l.Files {
			rel := filepath.Join(name, filepath.FromSlash(p))
			if len(l.Files) == 1 && !strings.Contains(p, "/") {
				rel = name + path.Ext(p)
			}
			full := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(full, body, 0o644); err != nil {
				return fmt.Errorf("write config of %s: %w", name, err)
			}
		}
	}
	return nil
}
