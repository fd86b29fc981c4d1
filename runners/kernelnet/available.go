package kernelnet

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nsDir is where named network namespaces are bind-mounted (as by ip-netns).
const nsDir = "/run/netns"

// Available reports whether this process may manage network namespaces.
// It decides from two facts and names whichever is missing:
//
//   - the effective capability set (CapEff in /proc/self/status) holds
//     CAP_NET_ADMIN (links, addresses, nftables, qdiscs) and CAP_SYS_ADMIN
//     (unshare and setns of network namespaces, bind mounts);
//   - /run/netns exists or can be created, and is a writable directory.
//
// It changes nothing except creating /run/netns when it is missing.
func Available() error {
	capEff, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("network namespaces: %w", err)
	}
	if missing := missingCaps(capEff); len(missing) > 0 {
		return fmt.Errorf("network namespaces need %s in the effective capabilities (run as root or grant them)",
			strings.Join(missing, " and "))
	}
	if err := os.MkdirAll(nsDir, 0o755); err != nil {
		return fmt.Errorf("network namespaces: %s is not usable: %w", nsDir, err)
	}
	if err := unix.Access(nsDir, unix.W_OK); err != nil {
		return fmt.Errorf("network namespaces: %s is not writable: %w", nsDir, err)
	}
	return nil
}

// missingCaps names the capabilities namespaces need that capEff lacks.
func missingCaps(capEff uint64) []string {
	var missing []string
	for _, c := range []struct {
		bit  uint
		name string
	}{{unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}} {
		if capEff&(1<<c.bit) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}

// effectiveCaps reads the effective capability mask of this process.
func effectiveCaps() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read capabilities: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("parse CapEff %q: %w", v, err)
			}
			return mask, nil
		}
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}
