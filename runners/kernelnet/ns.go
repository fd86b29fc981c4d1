package kernelnet

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// onThread runs f on a fresh goroutine locked to its OS thread and puts the
// thread back into its original network namespace afterwards, whatever f
// switched it to. When the thread cannot be switched back, the goroutine
// exits still locked and Go discards the thread, so no other goroutine ever
// runs in the wrong namespace.
func onThread(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get the current network namespace: %w", err)
			return
		}
		defer orig.Close()
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("return to the original network namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// inNS runs f on a thread switched into ns. Sockets f creates belong to ns
// for their whole life, and a process f starts is born in ns.
func inNS(ns netns.NsHandle, f func() error) error {
	return onThread(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("enter network namespace: %w", err)
		}
		return f()
	})
}

// newNamedNS creates the named namespace under /run/netns and returns a
// handle to it, leaving the caller's thread where it was.
func newNamedNS(name string) (netns.NsHandle, error) {
	h := netns.None()
	err := onThread(func() error {
		var err error
		h, err = netns.NewNamed(name)
		return err
	})
	if err != nil {
		if h.IsOpen() {
			h.Close()
		}
		return netns.None(), fmt.Errorf("create network namespace %s: %w", name, err)
	}
	return h, nil
}
