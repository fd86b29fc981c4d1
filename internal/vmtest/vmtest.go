// Package vmtest runs some of a package's tests inside a Linux kernel booted
// under qemu, for kernel features the machine running the tests lacks (our
// CI machines' kernel has no netem qdisc, for one). The package's test
// binary, built static, is the guest's init: it loads the kernel modules it
// was given, runs the chosen tests and powers the machine off. The kernel and
// its modules are the distribution's (tools/ci.d/40-vmkernel.sh unpacks
// Debian's and exports their paths).
//
// A package opts in with Main in its TestMain, and calls Run from a test on
// the host.
package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/testenv"
)

// Options choose what runs in the guest.
type Options struct {
	// Run is the -test.run pattern of the tests to run in the guest.
	Run string
	// Modules are the kernel modules to load first, by name (sch_netem);
	// their dependencies are loaded before them.
	Modules []string
	// Memory is the guest's memory in MiB (default 512).
	Memory int
	// Timeout bounds the whole boot and test run (default 3 min).
	Timeout time.Duration
}

// exitLine is how the guest reports its tests' exit code on the console.
var exitLine = regexp.MustCompile(`(?m)^VMTEST EXIT (\d+)\r?$`)

// NetworkModules are the modules kernel network tests load: netem, veth,
// bridges and nftables with numgen. crc32c_generic is a soft dependency of
// nf_tables (through libcrc32c), which .modinfo names only as an
// algorithm: it is listed before it.
var NetworkModules = []string{"sch_netem", "veth", "bridge", "crc32c_generic", "nf_tables", "nft_numgen"}

// RunTests runs the named tests in the guest (o.Run is set from them),
// fails t unless each of them passed there, and logs the guest's lines
// that contain mark (the measurements worth keeping).
func RunTests(t *testing.T, o Options, mark string, tests ...string) {
	t.Helper()
	o.Run = "^(" + strings.Join(tests, "|") + ")$"
	out := Run(t, o)
	for _, name := range tests {
		if !strings.Contains(out, "--- PASS: "+name) {
			t.Errorf("%s did not pass in the guest:\n%s", name, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, mark) {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// Run boots the kernel named by NOMOS_VM_KERNEL with the current package's
// tests as init, runs the tests o.Run selects there, and fails t when they
// fail or the guest never reports. It returns the guest's console output.
// Without a kernel it skips, saying what is missing.
func Run(t *testing.T, o Options) string {
	t.Helper()
	kernel, modules := env.VMKernel.Get(), env.VMModules.Get()
	if kernel == "" || modules == "" {
		testenv.Require(t, "a kernel to boot under qemu", fmt.Errorf("%s and %s are not set (tools/ci.d/40-vmkernel.sh up provides them)",
			env.VMKernel.Name, env.VMModules.Name))
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	testenv.Require(t, "qemu-system-x86_64 (Debian: qemu-system-x86)", err)
	if o.Memory == 0 {
		o.Memory = 512
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	dir := t.TempDir()
	init := filepath.Join(dir, "init")
	build := exec.Command("go", "test", "-c", "-o", init, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the guest test binary: %v\n%s", err, out)
	}
	loads, err := moduleOrder(modules, o.Modules)
	if err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := writeInitramfs(initrd, init, loads); err != nil {
		t.Fatalf("initramfs: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), o.Timeout)
	defer cancel()
	args := []string{"-m", strconv.Itoa(o.Memory), "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1 -- -test.v -test.run=" + o.Run}
	args = append(args, accel()...)
	cmd := exec.CommandContext(ctx, qemu, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	console := out.String()
	m := exitLine.FindStringSubmatch(console)
	switch {
	case m == nil:
		t.Fatalf("the guest did not report its tests (qemu: %v, after %s):\n%s", runErr, time.Since(start).Round(time.Second), console)
	case m[1] != "0":
		t.Fatalf("the tests failed in the guest (exit %s):\n%s", m[1], console)
	}
	t.Logf("guest ran %q in %s", o.Run, time.Since(start).Round(time.Millisecond))
	return console
}

// accel is qemu's CPU emulation, which works everywhere: on our CI machines
// KVM is offered but a nested guest hangs in early boot, and emulation boots
// this small kernel in about two seconds anyway.
func accel() []string { return []string{"-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2"} }

// Main is TestMain for a package whose tests may run in a guest: as the
// guest's init (PID 1) it sets the machine up, runs the tests and powers
// off; anywhere else it just runs the tests.
func Main(m *testing.M) {
	if os.Getpid() != 1 {
		os.Exit(m.Run())
	}
	if err := setupGuest(); err != nil {
		fmt.Printf("vmtest: guest setup: %v\n", err)
		fmt.Println("VMTEST EXIT 2")
		powerOff()
	}
	code := m.Run()
	fmt.Printf("VMTEST EXIT %d\n", code)
	powerOff()
}

// InGuest reports whether the tests run as a guest's init.
func InGuest() bool { return os.Getpid() == 1 }
