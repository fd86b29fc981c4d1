package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/runners/attach"
)

var downCmd = &command{
	name:  "down",
	args:  argDir,
	usage: "RUN_DIR [--timeout 2m]",
	short: "stop the cluster that 'nomosrun up' keeps running from RUN_DIR",
	flags: downFlags,
}

func downFlags(a *app, c *command, sub string, fs *flag.FlagSet) action {
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for 'nomosrun up' to tear the cluster down")
	return func(ctx context.Context, pos []string) error {
		if len(pos) != 1 {
			return usageError(errors.New("down: want exactly one run directory; usage: nomosrun down " + c.usage))
		}
		dir := pos[0]
		ep, err := readEndpoints(dir)
		if err != nil {
			return usageError(err)
		}
		if !upAlive(ep) {
			fmt.Fprintf(a.stderr, "nomosrun: notice: nomosrun up (pid %d) is no longer running; the cluster is already down\n", ep.PID)
			if err := stillAnswering(ctx, ep); err != nil {
				return withCode(ExitInfrastructure, err)
			}
			// The file is stale: the up process died without removing it.
			if err := os.Remove(filepath.Join(dir, endpointsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
				a.logger.Warn("remove stale endpoints file", "err", err)
			}
			return nil
		}
		t0 := time.Now()
		if err := syscall.Kill(ep.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return withCode(ExitInfrastructure, fmt.Errorf("stop nomosrun up (pid %d): %w", ep.PID, err))
		}
		fmt.Fprintf(a.stderr, "nomosrun: asked nomosrun up (pid %d) to tear down %s\n", ep.PID, ep.Scenario)
		deadline := time.Now().Add(*timeout)
		for upAlive(ep) {
			if time.Now().After(deadline) {
				return withCode(ExitInfrastructure, fmt.Errorf("nomosrun up (pid %d) is still running %s after SIGTERM; its teardown may be stuck (see %s): stop it with kill -9 %d",
					ep.PID, *timeout, filepath.Join(dir, "logs"), ep.PID))
			}
			select {
			case <-ctx.Done():
				return withCode(ExitInterrupted, fmt.Errorf("interrupted while waiting for nomosrun up (pid %d) to stop", ep.PID))
			case <-time.After(100 * time.Millisecond):
			}
		}
		if err := stillAnswering(ctx, ep); err != nil {
			return withCode(ExitInfrastructure, err)
		}
		fmt.Fprintf(a.stdout, "stopped %s: %d nodes down, nomosrun up (pid %d) exited after %s\n",
			ep.Scenario, len(ep.Nodes), ep.PID, time.Since(t0).Round(100*time.Millisecond))
		return nil
	}
}

// readEndpoints reads dir/endpoints.json with errors that say what to do.
func readEndpoints(dir string) (*attach.Endpoints, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, errors.Unwrap(err))
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory; give the run directory of a nomosrun up", dir)
	}
	ep, err := attach.Read(dir)
	if err != nil {
		return nil, err
	}
	if ep.PID <= 0 {
		return nil, fmt.Errorf("%s names no nomosrun up process (pid %d)", filepath.Join(dir, endpointsFile), ep.PID)
	}
	return ep, nil
}

// upAlive reports whether the process recorded in ep is still the running
// `nomosrun up`: it exists, is not a zombie waiting to be reaped, and (on
// Linux) runs the recorded executable, so a reused pid is never signalled.
func upAlive(ep *attach.Endpoints) bool {
	err := syscall.Kill(ep.PID, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if runtime.GOOS != "linux" {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ep.PID))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses; Z and X are gone.
	if s := string(stat); strings.LastIndexByte(s, ')') > 0 {
		if i := strings.LastIndexByte(s, ')'); i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X') {
			return false
		}
	}
	if ep.Executable == "" {
		return true
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", ep.PID))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist) // another user's process: cannot tell
	}
	// A binary rebuilt while running shows as "path (deleted)".
	return strings.TrimSuffix(exe, " (deleted)") == ep.Executable
}

// stillAnswering returns an error naming every recorded node whose API
// still answers.
func stillAnswering(ctx context.Context, ep *attach.Endpoints) error {
	var alive []string
	for _, n := range ep.Nodes {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := nodeclient.NewHTTP(n.API, n.TestingAPI, nil).Info(cctx)
		cancel()
		if err == nil {
			alive = append(alive, fmt.Sprintf("%s at %s", n.Name, n.API))
		}
	}
	if len(alive) > 0 {
		return fmt.Errorf("nomosrun up (pid %d) is gone but nodes still answer: %s", ep.PID, strings.Join(alive, ", "))
	}
	return nil
}
