package vmtest

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cavaliergopher/cpio"
)

// moduleOrder returns the .ko files of the named modules under dir (a
// kernel's lib/modules/VERSION), each after the modules it depends on, as
// the modules' own .modinfo "depends=" entries say (no depmod needed).
func moduleOrder(dir string, names []string) ([]string, error) {
	files := map[string]string{} // module name -> path
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".ko") {
			files[moduleName(filepath.Base(path))] = path
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var order []string
	seen := map[string]bool{}
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		name = moduleName(name)
		if seen[name] {
			return nil
		}
		path, ok := files[name]
		if !ok {
			return fmt.Errorf("module %s (needed by %s) is not under %s", name, strings.Join(chain, " <- "), dir)
		}
		seen[name] = true
		deps, err := moduleDepends(path)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, append(chain, name)); err != nil {
				return err
			}
		}
		order = append(order, path)
		return nil
	}
	for _, n := range names {
		if err := visit(n, []string{"the test"}); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// moduleName is a module's canonical name: file name without .ko, with
// dashes as underscores (the kernel treats them alike).
func moduleName(s string) string {
	return strings.ReplaceAll(strings.TrimSuffix(s, ".ko"), "-", "_")
}

// moduleDepends reads the "depends=" entry of a module's .modinfo section.
func moduleDepends(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("module %s has no .modinfo section", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := strings.CutPrefix(string(kv), "depends="); ok && v != "" {
			return strings.Split(v, ","), nil
		}
	}
	return nil, nil
}

// writeInitramfs writes a newc cpio archive holding init as /init and the
// modules as /modules/NN-name.ko, numbered in load order.
func writeInitramfs(path, init string, modules []string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := cpio.NewWriter(out)
	add := func(name, src string, mode cpio.FileMode) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := w.WriteHeader(&cpio.Header{Name: name, Mode: cpio.TypeReg | mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	err = w.WriteHeader(&cpio.Header{Name: "modules", Mode: cpio.TypeDir | 0o755})
	if err == nil {
		err = add("init", init, 0o755)
	}
	for i, m := range modules {
		if err == nil {
			err = add(fmt.Sprintf("modules/%02d-%s", i, filepath.Base(m)), m, 0o644)
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
