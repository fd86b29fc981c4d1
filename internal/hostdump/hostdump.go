// Package hostdump snapshots this machine's network configuration as ip
// and nft print it, for leak tests: what a run leaves behind shows as lines
// that differ between a snapshot before it and one after its clean-up.
package hostdump

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// commands are the dumps of a snapshot.
var commands = [][]string{
	{"ip", "-o", "-d", "link"}, {"ip", "-o", "addr"}, {"ip", "route", "show", "table", "all"},
	{"ip", "rule"}, {"nft", "list", "ruleset"},
}

// running are values that change by themselves: nft's packet counts and a
// bridge's timers.
var running = regexp.MustCompile(`counter packets \d+ bytes \d+|\w+_timer +[\d.]+`)

// Snapshot is one dump per command, its lines trimmed and without running
// values.
type Snapshot map[string][]string

// Take dumps the host's links, addresses, routes, rules and nftables
// ruleset; it skips the test when ip or nft is missing.
func Take(t testing.TB) Snapshot {
	t.Helper()
	out := Snapshot{}
	for _, args := range commands {
		b, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil {
			t.Skipf("the leak test compares %v dumps: %v", args, err)
		}
		key := strings.Join(args, " ")
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(running.ReplaceAllString(l, "")); l != "" {
				out[key] = append(out[key], l)
			}
		}
	}
	return out
}

// Diff returns the lines only in s ("- ") and only in after ("+ "), each
// prefixed with its command.
func (s Snapshot) Diff(after Snapshot) []string {
	var out []string
	for k := range s {
		for _, l := range s[k] {
			if !slices.Contains(after[k], l) {
				out = append(out, k+": - "+l)
			}
		}
		for _, l := range after[k] {
			if !slices.Contains(s[k], l) {
				out = append(out, k+": + "+l)
			}
		}
	}
	return out
}

// Check fails t for every line that differs between s and after and
// mentions one of ours (the run's names, addresses, subnets); other
// differences are logged as the work of other processes meanwhile.
func (s Snapshot) Check(t testing.TB, after Snapshot, ours []string) {
	t.Helper()
	for _, d := range s.Diff(after) {
		if MentionsAny(d, ours) {
			t.Errorf("host configuration changed: %s", d)
		} else {
			t.Logf("changed meanwhile by another process (not this run): %s", d)
		}
	}
}

// MentionsAny reports whether s contains one of words.
func MentionsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// KillWhenReady re-runs this test binary with env set (the child does the
// run's work when it sees it), waits for its first output line, "ready"
// followed by fields, kills it with SIGKILL and returns the fields: what a
// killed run leaves is what the leak test then looks for.
func KillWhenReady(t testing.TB, env string, within time.Duration) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Scan()
		line <- s.Text()
	}()
	var got string
	select {
	case got = <-line:
	case <-time.After(within):
		t.Fatalf("the child did not get ready in %v", within)
	}
	f := strings.Fields(got)
	if len(f) < 2 || f[0] != "ready" {
		t.Fatalf("child: %s", got)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	return f[1:]
}
