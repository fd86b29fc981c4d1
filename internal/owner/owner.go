// Package owner names the nomosrun process that made a run's objects, so a
// clean can tell a killed run's leftovers from a run that is still going.
package owner

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Self is this process as an owner value: "host:pid".
func Self() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Live reports whether the process an owner value names still runs on this
// machine. An owner on another host, or not an owner value, is not live:
// this machine cannot tell, and a clean asked for here may remove it.
func Live(owner string) bool {
	host, pid, ok := strings.Cut(owner, ":")
	if me, _ := os.Hostname(); !ok || host != me {
		return false
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	err = syscall.Kill(n, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
