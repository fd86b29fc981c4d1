package da

import (
	"math/rand/v2"
	"sync"
	"testing"
)

var (
	paramsOnce sync.Once
	testParams *Params
	paramsErr  error
)

// params loads the repository's parameter file once per test binary.
func params(tb testing.TB) *Params {
	tb.Helper()
	paramsOnce.Do(func() {
		testParams, paramsErr = LoadParams(repoFile(tb, RepoParamsPath))
	})
	if paramsErr != nil {
		tb.Fatalf("load params: %v", paramsErr)
	}
	return testParams
}

// repoFile is a path relative to the module root (tests run in simnode/da).
func repoFile(tb testing.TB, rel string) string {
	tb.Helper()
	return "../../" + rel
}

// randomBlob returns n deterministic pseudo-random bytes.
func randomBlob(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// encode is Encode that fails the test on error.
func encode(tb testing.TB, columns int, data []byte) ([32]byte, []Share) {
	tb.Helper()
	id, shares, err := Encode(params(tb), Config{Columns: columns}, data)
	if err != nil {
		tb.Fatalf("Encode(%d columns, %d bytes): %v", columns, len(data), err)
	}
	return id, shares
}
