package nodekind

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Default is the kind of a topology that names none: the reference node.
const Default = "reference"

var (
	mu    sync.RWMutex
	kinds = map[string]Kind{}
)

// Register makes a kind available under its name. A kind package calls it
// from init; registering a name twice is a programming error and panics,
// like database/sql.Register.
func Register(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	if k == nil || k.Name() == "" {
		panic("nodekind: Register needs a kind with a name")
	}
	if _, dup := kinds[k.Name()]; dup {
		panic("nodekind: Register called twice for " + k.Name())
	}
	kinds[k.Name()] = k
}

// Get returns the named kind; "" is Default. An unknown name is an error
// that lists the known ones.
func Get(name string) (Kind, error) {
	if name == "" {
		name = Default
	}
	mu.RLock()
	defer mu.RUnlock()
	if k, ok := kinds[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown node kind %q; known: %s", name, strings.Join(namesLocked(), ", "))
}

// Names lists the registered kinds, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
