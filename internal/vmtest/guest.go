package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// modulesDir is where the initramfs keeps the modules to load, named so
// that name order is load order.
const modulesDir = "/modules"

// setupGuest mounts what tests expect of a Linux system and loads the
// modules of the initramfs in order.
func setupGuest() error {
	mounts := []struct{ fs, dir string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}, {"tmpfs", "/run"}, {"tmpfs", "/tmp"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fs, m.dir, err)
		}
	}
	files, err := filepath.Glob(filepath.Join(modulesDir, "*.ko"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if err := loadModule(f); err != nil {
			return err
		}
	}
	// Tests serve HTTP on loopback, which a fresh kernel leaves down.
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && err != unix.EEXIST {
		return fmt.Errorf("load module %s: %w", filepath.Base(path), err)
	}
	return nil
}

// powerOff ends the guest; qemu exits with it (-no-reboot).
func powerOff() {
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {} // PID 1 must not exit: the kernel would panic
}
