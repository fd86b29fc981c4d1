// Command kzgparams writes the deterministic KZG test parameters (an SRS of
// powers of tau over BLS12-381, gnark-crypto compressed encoding) that the
// reference node uses for data availability, and prints the file's SHA-256
// for versions.env.
//
// The parameters are derived from a fixed public seed: they are for tests
// only and are not secure.
//
//	go run ./tools/kzgparams [-out path] [-size 1024]
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nomosrun/nomosrun/simnode/da"
)

func main() {
	out := flag.String("out", da.ParamsPath(), "where to write the parameter file")
	size := flag.Int("size", da.TestParamsSize, "number of powers of tau (rows of up to this many elements)")
	flag.Parse()
	if err := run(*out, *size); err != nil {
		fmt.Fprintln(os.Stderr, "kzgparams:", err)
		os.Exit(1)
	}
}

func run(out string, size int) error {
	p, err := da.GenerateTestParams(size)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".kzgparams-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	w := bufio.NewWriter(f)
	n, err := p.WriteTo(io.MultiWriter(w, h))
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	// Rename last, so a reader never sees a half-written file.
	if err := os.Rename(f.Name(), out); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d bytes)\nKZGRS_PARAMS_SHA256=%s\n", out, n, hex.EncodeToString(h.Sum(nil)))
	return nil
}
