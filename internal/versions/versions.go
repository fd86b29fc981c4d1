// Package versions reads versions.env, the pinned versions of nomosrun, into
// a typed struct.
package versions

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/nomosrun/nomosrun"
)

// Versions are the pinned versions. Keys of versions.env without a field
// are kept in Other, so adding a key never breaks older readers.
type Versions struct {
	Nomosrun          string // NOMOSRUN_VERSION
	NomosNode         string // NOMOS_NODE_VERSION: the reference node's version
	TestnetImage      string // NOMOS_TESTNET_IMAGE: default image of compose and k8s
	Kubernetes        string // KUBERNETES_VERSION: the test cluster
	GoStarlark        string // GO_STARLARK_VERSION: the interpreter's pinned pseudo-version
	KZGRSParamsSHA256 string // KZGRS_PARAMS_SHA256: checksum of the KZG test parameters
	CometBFT          string // COMETBFT_VERSION: the cometbft node kind's release
	Compose           string // COMPOSE_VERSION: the Docker Compose v2 CLI built for CI
	Other             map[string]string
}

// required are the keys every versions.env must set.
var required = []string{"NOMOSRUN_VERSION", "NOMOS_NODE_VERSION", "NOMOS_TESTNET_IMAGE", "KUBERNETES_VERSION", "GO_STARLARK_VERSION"}

// Parse reads KEY=VALUE lines; blank lines and # comments are skipped.
// Duplicate keys, malformed lines and missing required keys are errors.
func Parse(data []byte) (Versions, error) {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return Versions{}, fmt.Errorf("versions.env:%d: want KEY=VALUE, got %q", n, line)
		}
		if _, dup := kv[k]; dup {
			return Versions{}, fmt.Errorf("versions.env:%d: %s set twice", n, k)
		}
		kv[k] = v
	}
	if err := sc.Err(); err != nil {
		return Versions{}, fmt.Errorf("versions.env: %w", err)
	}
	for _, k := range required {
		if kv[k] == "" {
			return Versions{}, fmt.Errorf("versions.env: %s is missing", k)
		}
	}
	take := func(k string) string { v := kv[k]; delete(kv, k); return v }
	v := Versions{
		Nomosrun: take("NOMOSRUN_VERSION"), NomosNode: take("NOMOS_NODE_VERSION"),
		TestnetImage: take("NOMOS_TESTNET_IMAGE"), Kubernetes: take("KUBERNETES_VERSION"),
		GoStarlark: take("GO_STARLARK_VERSION"), KZGRSParamsSHA256: take("KZGRS_PARAMS_SHA256"),
		CometBFT: take("COMETBFT_VERSION"), Compose: take("COMPOSE_VERSION"),
	}
	if len(kv) > 0 {
		v.Other = kv
	}
	return v, nil
}

var embedded = sync.OnceValues(func() (Versions, error) { return Parse(nomosrun.VersionsEnv) })

// Default returns the versions embedded in the binary, parsed once. The
// embedded file is checked by tests, so an error here is a build defect.
func Default() (Versions, error) { return embedded() }
