// Package installfiles copies a directory tree into another one. Node
// binaries serve it as the hidden subcommand Command, which the Kubernetes
// runner runs in an init container to turn the read-only ConfigMap volume of
// a node's rendered files into the node's writable home: the node images
// are FROM scratch, with no shell or cp.
package installfiles

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Command is the hidden subcommand of the node binaries: "install-files SRC
// DST" runs Install(SRC, DST).
const Command = "install-files"

// maxDepth bounds the tree, so a symbolic link loop ends in an error.
const maxDepth = 32

// Install copies every regular file under src to the same relative path
// under dst, creating directories as needed, with the source's permission
// bits. Symbolic links are followed, and entries whose names start with
// ".." are skipped: a ConfigMap volume is such links into its "..data"
// bookkeeping directory. A file dst already holds is kept: a node
// restarted on the same home finds what it wrote there (CometBFT's
// last-signed state), not the rendered original. Each file is written under
// a temporary name and renamed, so an interrupted copy leaves no partial
// file behind.
func Install(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	return installDir(src, dst, 0)
}

func installDir(src, dst string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: more than %d directory levels (a symbolic link loop?)", src, maxDepth)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		st, err := os.Stat(from) // follows links
		if err != nil {
			return err
		}
		switch {
		case st.IsDir():
			err = installDir(from, to, depth+1)
		case st.Mode().IsRegular():
			err = installFile(from, to, st.Mode().Perm())
		default:
			err = fmt.Errorf("%s is neither a file nor a directory", from)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func installFile(from, to string, perm os.FileMode) error {
	if _, err := os.Lstat(to); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), to)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("install %s: %w", to, err)
	}
	return nil
}

// Main runs the subcommand on its arguments (after Command) and returns the
// exit code: 0 done, 1 the copy failed, 2 usage.
func Main(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: "+Command+" SRC DST")
		return 2
	}
	if err := Install(args[0], args[1]); err != nil {
		fmt.Fprintln(stderr, Command+":", err)
		return 1
	}
	return 0
}
