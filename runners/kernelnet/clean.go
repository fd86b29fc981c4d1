package kernelnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Clean removes what runs with this prefix left behind when they were
// killed: their namespaces under /run/netns and their veth in nomosrun's
// namespace (found by its alias). A run whose process is alive holds a lock
// on its hub namespace and is left alone. It returns what it removed.
func Clean(ctx context.Context, prefix string) ([]string, error) {
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("clean: prefix %q: want lower-case letters, digits and dashes", prefix)
	}
	// No run may be between creating its hub and locking it meanwhile.
	unlock, err := lockNSDir(unix.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("clean: %w", err)
	}
	defer unlock()
	runs, err := leftoverRuns(prefix)
	if err != nil {
		return nil, fmt.Errorf("clean: %w", err)
	}
	links, err := rootLinks(prefix)
	if err != nil {
		return nil, fmt.Errorf("clean: %w", err)
	}
	for run := range links {
		if _, ok := runs[run]; !ok {
			runs[run] = nil
		}
	}
	var removed []string
	var errs []error
	for _, run := range sortedKeys(runs) {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if live(run + "-" + hubName) {
			continue
		}
		for _, name := range links[run] {
			if err := deleteRootLink(name); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "link "+name)
			}
		}
		// The hub goes last: while it exists, the run is still findable.
		nsNames := runs[run]
		sort.SliceStable(nsNames, func(i, j int) bool { return !isHub(nsNames[i]) && isHub(nsNames[j]) })
		for _, ns := range nsNames {
			if err := deleteNS(ns, -1); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "namespace "+ns)
			}
		}
	}
	return removed, errors.Join(errs...)
}

// leftoverRuns groups the namespaces under /run/netns by run.
func leftoverRuns(prefix string) (map[string][]string, error) {
	entries, err := os.ReadDir(nsDir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	runs := map[string][]string{}
	for _, e := range entries {
		if run, ok := runOf(prefix, e.Name()); ok {
			runs[run] = append(runs[run], e.Name())
		}
	}
	return runs, nil
}

// live reports whether a process holds the run's lock on its hub.
func live(hub string) bool {
	f, err := os.Open(filepath.Join(nsDir, hub))
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}
	return errors.Is(err, unix.EWOULDBLOCK)
}

// rootLinks groups the links of nomosrun's namespace whose alias names a
// run's hub, by run.
func rootLinks(prefix string) (map[string][]string, error) {
	ls, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	out := map[string][]string{}
	for _, l := range ls {
		if run, ok := runOf(prefix, l.Attrs().Alias); ok && isHub(l.Attrs().Alias) {
			out[run] = append(out[run], l.Attrs().Name)
		}
	}
	return out, nil
}

func isHub(nsName string) bool { return strings.HasSuffix(nsName, "-"+hubName) }

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
