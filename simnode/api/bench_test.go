package api_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
	"github.com/nomosrun/nomosrun/simnode/config"
)

// BenchmarkTxIngest posts signed ChannelInscribe transactions to
// /mempool/add/tx of one node over loopback HTTP, from 4 concurrent
// clients: decoding, hashing, signature checks and mempool insertion. The
// reported tx/s is the sustained ingest rate of one node.
func BenchmarkTxIngest(b *testing.B) {
	srv, _, _ := testNode(b, config.RoleValidator)
	key := txcodec.WalletKey(3, 0)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		tx := txcodec.Inscribe(key, nodeapi.Hash{1}, nodeapi.Hash{}, binary.BigEndian.AppendUint64(nil, uint64(i)))
		bodies[i], _ = json.Marshal(tx)
	}
	next := make(chan []byte, len(bodies))
	for _, body := range bodies {
		next <- body
	}
	close(next)
	b.ResetTimer()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := <-next
			resp, err := http.Post(srv.URL+"/mempool/add/tx", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}
