package runners

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// Info is everything nomosrun knows about a runner before starting it: the
// one registration a runner package makes from init. Plan validation, the
// doctor command and the --runner help all read it.
type Info struct {
	// Name is the runner's name as given to --runner.
	Name string
	// Doc is a one-line description for help texts.
	Doc string
	// Caps lists what the runner's clusters can do; plans are validated
	// against it without starting anything.
	Caps plan.Capabilities
	// CapsHere, when set, says what the runner can do on this machine now,
	// for a runner whose capabilities depend on its environment (attach:
	// node control when the endpoints file names each node's container).
	// Plan validation uses it instead of Caps.
	CapsHere func() plan.Capabilities
	// Checks names the prerequisite checks of nomosrun doctor
	// (internal/doctor) this runner needs beyond those every runner needs.
	Checks []string
	// New builds the runner with its default options. Runners read their
	// own environment variables (internal/env).
	New func() (Runner, error)
	// NetworkFaults, when set, says how this machine's runs will apply
	// network faults that may use the kernel, as far as it can tell before
	// deploying (nomosrun plan prints it).
	NetworkFaults func() string
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Info{}
)

// Register makes a runner available under info.Name (as given to
// --runner). A runner package calls it from init; registering a name twice
// or without a constructor is a programming error and panics, like
// database/sql.Register.
func Register(info Info) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if info.Name == "" || info.New == nil {
		panic("runners: Register needs a name and a constructor")
	}
	if _, dup := registry[info.Name]; dup {
		panic("runners: Register called twice for " + info.Name)
	}
	if info.Caps == nil {
		info.Caps = plan.NewCapabilities()
	}
	registry[info.Name] = info
}

// Lookup returns the registration of the named runner. An unknown name is
// an error that lists the known ones.
func Lookup(name string) (Info, error) {
	registryMu.RLock()
	info, ok := registry[name]
	registryMu.RUnlock()
	if ok {
		return info, nil
	}
	known := Names()
	if len(known) == 0 {
		return Info{}, fmt.Errorf("unknown runner %q: no runner is registered", name)
	}
	return Info{}, fmt.Errorf("unknown runner %q; want one of %s", name, strings.Join(known, ", "))
}

// New builds the runner registered under name. An unknown name is an error
// that lists the known ones.
func New(name string) (Runner, error) {
	info, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	r, err := info.New()
	if err != nil {
		return nil, fmt.Errorf("runner %s: %w", name, err)
	}
	return r, nil
}

// All returns every registration, sorted by name.
func All() []Info {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Info, 0, len(registry))
	for _, info := range registry {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the registered runner names in order.
func Names() []string {
	all := All()
	out := make([]string, len(all))
	for i, info := range all {
		out[i] = info.Name
	}
	return out
}
