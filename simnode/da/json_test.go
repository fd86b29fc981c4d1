package da

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestShareJSONShape(t *testing.T) {
	p := params(t)
	id, shares := encode(t, 4, randomBlob(21, 100))
	raw, err := json.Marshal(shares[3])
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	keys := []string{"blob_id", "column", "combined_column_proof", "rows_commitments", "share_idx"}
	for _, k := range keys {
		if _, ok := generic[k]; !ok {
			t.Fatalf("share JSON %s lacks %q", raw, k)
		}
	}
	if len(generic) != len(keys) {
		t.Fatalf("share JSON has extra keys: %v", generic)
	}
	if generic["share_idx"] != 3.0 {
		t.Fatalf("share_idx = %v, want plain number 3", generic["share_idx"])
	}
	blob := generic["blob_id"].([]any)
	if len(blob) != 32 || blob[0] != float64(id[0]) {
		t.Fatalf("blob_id = %v, want 32 ints starting %d", blob, id[0])
	}
	rows := generic["rows_commitments"].([]any)
	if len(rows) != len(shares[3].Commitments) || len(rows[0].([]any)) != CommitmentSize {
		t.Fatalf("rows_commitments has wrong shape: %v", rows)
	}
	if len(generic["combined_column_proof"].([]any)) != CommitmentSize {
		t.Fatal("combined_column_proof is not 48 ints")
	}

	back, err := DecodeShare(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, shares[3]) {
		t.Fatal("share changed in a JSON round trip")
	}
	if err := Verify(p, back); err != nil {
		t.Fatalf("decoded share: %v", err)
	}
}

func TestShareJSONWithoutBlobID(t *testing.T) {
	// A bare DaShare, as posted to /da/add-share, gets its id from the commitments.
	id, shares := encode(t, 2, []byte("hello"))
	raw, _ := json.Marshal(shares[0])
	var generic map[string]json.RawMessage
	_ = json.Unmarshal(raw, &generic)
	delete(generic, "blob_id")
	bare, _ := json.Marshal(generic)
	s, err := DecodeShare(bare)
	if err != nil {
		t.Fatal(err)
	}
	if s.BlobID != id {
		t.Fatalf("derived blob id %x, want %x", s.BlobID, id)
	}
}

func TestShareJSONErrors(t *testing.T) {
	cases := map[string]string{
		"not json":        `{`,
		"base64 bytes":    `{"share_idx":0,"column":["AAEC"],"combined_column_proof":[],"rows_commitments":[]}`,
		"byte too large":  `{"share_idx":0,"column":[[256]],"combined_column_proof":[],"rows_commitments":[]}`,
		"negative byte":   `{"share_idx":0,"column":[[-1]],"combined_column_proof":[],"rows_commitments":[]}`,
		"index too large": `{"share_idx":65536,"column":[],"combined_column_proof":[],"rows_commitments":[]}`,
		"missing index":   `{"column":[],"combined_column_proof":[],"rows_commitments":[]}`,
		"short blob id":   `{"blob_id":[1,2],"share_idx":0,"column":[],"combined_column_proof":[],"rows_commitments":[]}`,
		"trailing data":   `{"share_idx":0,"column":[],"combined_column_proof":[],"rows_commitments":[]} x`,
	}
	for name, in := range cases {
		if _, err := DecodeShare([]byte(in)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestRequestsFromNodeAPI(t *testing.T) {
	ids := "[" + strings.Repeat("7,", 31) + "9]"
	var gs GetSharesRequest
	body := `{"blob_id":` + ids + `,"requested_shares":[[1,0],[0,1]],"filter_shares":[[2,0]],"return_available":true}`
	if err := json.Unmarshal([]byte(body), &gs); err != nil {
		t.Fatal(err)
	}
	if gs.BlobID[0] != 7 || gs.BlobID[31] != 9 {
		t.Fatalf("blob id decoded as %v", gs.BlobID)
	}
	if !reflect.DeepEqual(gs.RequestedShares, []ShareIndex{1, 256}) {
		t.Fatalf("requested shares %v, want [1 256] (little-endian pairs)", gs.RequestedShares)
	}
	for i, want := range map[int]bool{0: true, 1: true, 2: false, 3: true, 256: true} {
		if gs.Wants(i) != want {
			t.Errorf("Wants(%d) = %v, want %v", i, !want, want)
		}
	}
	gs.ReturnAvailable = false
	if gs.Wants(0) || !gs.Wants(1) {
		t.Error("without return_available only requested shares are wanted")
	}

	var gc GetCommitmentsRequest
	if err := json.Unmarshal([]byte(`{"blob_id":`+ids+`,"session":0}`), &gc); err != nil || gc.BlobID[31] != 9 {
		t.Fatalf("get-commitments body: %v %v", gc, err)
	}
	var g1 GetShareRequest
	if err := json.Unmarshal([]byte(`{"blob_id":`+ids+`,"share_idx":[3,0]}`), &g1); err != nil || g1.ShareIdx != 3 {
		t.Fatalf("get-share body: %v %v", g1, err)
	}
	out, _ := json.Marshal(g1)
	if !strings.Contains(string(out), `"share_idx":[3,0]`) {
		t.Fatalf("share index encodes as %s", out)
	}
	if err := json.Unmarshal([]byte(`{"blob_id":[1,2,3]}`), &gc); err == nil {
		t.Fatal("a 3-byte blob id was accepted")
	}
}

func TestCommitmentsJSON(t *testing.T) {
	_, shares := encode(t, 2, randomBlob(2, 100))
	raw, err := json.Marshal(NewSharesCommitments(shares[0].Commitments))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), `{"rows_commitments":[[`) {
		t.Fatalf("commitments JSON = %.60s…", raw)
	}
	var back SharesCommitments
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Commitments(), shares[0].Commitments) {
		t.Fatal("commitments changed in a JSON round trip")
	}
}

func TestLightSharesStream(t *testing.T) {
	p := params(t)
	data := randomBlob(4, 400)
	id, shares := encode(t, 4, data)
	var buf bytes.Buffer
	req := GetSharesRequest{ReturnAvailable: true, FilterShares: []ShareIndex{0}}
	if err := WriteLightShares(&buf, req, shares); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Fatalf("stream has %d lines, want 3:\n%s", n, buf.String())
	}
	first := strings.SplitN(buf.String(), "\n", 2)[0]
	if !strings.HasPrefix(first, `{"share_idx":1,"column":[[`) || !strings.Contains(first, `"combined_column_proof":[`) {
		t.Fatalf("light share line = %.80s…", first)
	}
	lights, err := ReadLightShares(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var full []Share
	for _, l := range lights {
		full = append(full, l.Share(id, shares[0].Commitments))
	}
	got, err := Reconstruct(p, Config{Columns: 4}, full)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data rebuilt from the stream differs")
	}
	if _, err := ReadLightShares(strings.NewReader(`{"share_idx":1}` + "\n" + `{"share_idx":`)); err == nil {
		t.Fatal("a truncated stream was accepted")
	}
}
