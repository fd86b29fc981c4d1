package da

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzRoundTrip encodes arbitrary data and reconstructs it from a subset of
// half the columns chosen by pick.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint16(0))
	f.Add([]byte("hello, data availability"), uint8(1), uint16(0xffff))
	f.Add(bytes.Repeat([]byte{0}, 62), uint8(2), uint16(0x5a5a))
	f.Add(bytes.Repeat([]byte{0x80}, 93), uint8(3), uint16(7))
	f.Add(randomBlob(1, 1000), uint8(2), uint16(0x0f0f))
	f.Fuzz(func(t *testing.T, data []byte, logCols uint8, pick uint16) {
		if len(data) > 8<<10 {
			data = data[:8<<10] // keep iterations fast
		}
		p := params(t)
		cfg := Config{Columns: 2 << (logCols % 4)}
		_, shares, err := Encode(p, cfg, data)
		if err != nil {
			t.Fatal(err)
		}
		// Half the columns: start from the bits of pick, then fill up.
		var subset []Share
		used := map[int]bool{}
		for j := 0; j < cfg.Columns && len(subset) < cfg.Columns/2; j++ {
			if pick&(1<<(j%16)) != 0 {
				subset, used[j] = append(subset, shares[j]), true
			}
		}
		for j := cfg.Columns - 1; len(subset) < cfg.Columns/2; j-- {
			if !used[j] {
				subset = append(subset, shares[j])
			}
		}
		got, err := Reconstruct(p, cfg, subset)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("round trip changed %d bytes into %d bytes", len(data), len(got))
		}
	})
}

// FuzzDecodeShare feeds arbitrary bytes to the share decoder: it must fail
// cleanly or give a share that encodes stably and that Verify can judge.
func FuzzDecodeShare(f *testing.F) {
	_, shares := encode(f, 2, []byte("seed"))
	good, _ := json.Marshal(shares[1])
	f.Add(good)
	f.Add([]byte(`{"share_idx":0,"column":[[1,2]],"combined_column_proof":[1],"rows_commitments":[[3]]}`))
	f.Add([]byte(`{"share_idx":65535,"column":null,"combined_column_proof":null,"rows_commitments":null}`))
	f.Add([]byte(`{"blob_id":[1],"share_idx":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := DecodeShare(raw)
		if err != nil {
			return
		}
		m1, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("decoded share does not encode: %v", err)
		}
		s2, err := DecodeShare(m1)
		if err != nil {
			t.Fatalf("re-decode %s: %v", m1, err)
		}
		m2, _ := json.Marshal(s2)
		if !bytes.Equal(m1, m2) {
			t.Fatalf("unstable encoding:\n%s\n%s", m1, m2)
		}
		_ = Verify(params(t), s) // must not panic
	})
}
