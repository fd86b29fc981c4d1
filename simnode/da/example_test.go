package da_test

import (
	"bytes"
	"fmt"

	"github.com/nomosrun/nomosrun/simnode/da"
)

// An executor encodes a blob for two DA subnets; each subnet member
// verifies and stores its column; anyone holding half the columns
// rebuilds the blob.
func Example() {
	params, err := da.LoadDefaultParams()
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := da.Config{Columns: 2}
	blob := bytes.Repeat([]byte("nomos"), 31)
	blobID, shares, err := da.Encode(params, cfg, blob)
	if err != nil {
		fmt.Println(err)
		return
	}

	store := da.NewStore()
	for _, s := range shares { // share i goes to subnet i
		if err := da.Verify(params, s); err != nil {
			fmt.Println(err)
			return
		}
		if err := store.Put(s); err != nil {
			fmt.Println(err)
			return
		}
	}

	held := store.Shares(blobID)
	back, err := da.Reconstruct(params, cfg, held[1:])
	fmt.Println(len(shares), len(held[0].Data), bytes.Equal(back, blob), err)
	// Output: 2 6 true <nil>
}
