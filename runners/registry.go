package runners

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Factory builds a runner with its default options. Runners read their own
// environment variables (NOMOS_NODE_BIN, COMPOSE_RUNNER_*, K8S_RUNNER_*).
type Factory func() (Runner, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a runner available under name (as given to --runner). A
// runner package calls it from init; registering a name twice is a
// programming error and panics, like database/sql.Register.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" || f == nil {
		panic("runners: Register needs a name and a factory")
	}
	if _, dup := registry[name]; dup {
		panic("runners: Register called twice for " + name)
	}
	registry[name] = f
}

// New builds the runner registered under name. An unknown name is an error
// that lists the known ones.
func New(name string) (Runner, error) {
	registryMu.RLock()
	f, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		known := Names()
		if len(known) == 0 {
			return nil, fmt.Errorf("unknown runner %q: no runner is registered", name)
		}
		return nil, fmt.Errorf("unknown runner %q (known: %s)", name, strings.Join(known, ", "))
	}
	r, err := f()
	if err != nil {
		return nil, fmt.Errorf("runner %s: %w", name, err)
	}
	return r, nil
}

// Names returns the registered runner names in order.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
