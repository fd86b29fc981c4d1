package da

import (
	"fmt"
	"testing"
)

func BenchmarkEncode(b *testing.B) {
	p := params(b)
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, columns := range []int{2, 32} {
			data := randomBlob(uint64(size), size)
			b.Run(fmt.Sprintf("%dKiB/columns=%d", size>>10, columns), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, _, err := Encode(p, Config{Columns: columns}, data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	p := params(b)
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, columns := range []int{2, 32} {
			_, shares := encode(b, columns, randomBlob(uint64(size), size))
			b.Run(fmt.Sprintf("%dKiB/columns=%d", size>>10, columns), func(b *testing.B) {
				for b.Loop() {
					if err := Verify(p, shares[columns-1]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkReconstruct(b *testing.B) {
	p := params(b)
	const size = 64 << 10
	for _, columns := range []int{2, 32} {
		_, shares := encode(b, columns, randomBlob(1, size))
		b.Run(fmt.Sprintf("64KiB/columns=%d/parity", columns), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if _, err := Reconstruct(p, Config{Columns: columns}, shares[columns/2:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLoadParams(b *testing.B) {
	path := repoFile(b, RepoParamsPath)
	for b.Loop() {
		if _, err := LoadParams(path); err != nil {
			b.Fatal(err)
		}
	}
}
