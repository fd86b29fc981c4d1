package nodeapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHashEncoding(t *testing.T) {
	h := Hash{0xab, 0x01}
	b, _ := json.Marshal(h)
	want := `"ab01` + strings.Repeat("0", 60) + `"`
	if string(b) != want {
		t.Errorf("hash JSON %s", b)
	}
	var back Hash
	if err := json.Unmarshal([]byte(`"0x`+want[1:]), &back); err != nil || back != h {
		t.Errorf("0x input: %v %v", back, err)
	}
	for _, bad := range []string{`"ab"`, `"zz` + strings.Repeat("0", 62) + `"`, `5`} {
		if json.Unmarshal([]byte(bad), &back) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestByteArrays(t *testing.T) {
	b, _ := json.Marshal(BlobID{1, 255})
	if !strings.HasPrefix(string(b), "[1,255,0,") {
		t.Errorf("blob id %s", b)
	}
	var id BlobID
	if err := json.Unmarshal(b, &id); err != nil || id != (BlobID{1, 255}) {
		t.Errorf("blob id round trip = %v, %v", id, err)
	}
	if json.Unmarshal([]byte(`[1,2]`), &id) == nil {
		t.Error("short blob id accepted")
	}
	var bs Bytes
	if json.Unmarshal([]byte(`[256]`), &bs) == nil {
		t.Error("out of range byte accepted")
	}
}
