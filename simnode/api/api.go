// Package api serves the reference node's HTTP APIs: the main API with the
// routes, field names and encodings of the Nomos node, and the testing API
// with DA membership and the fault hooks. There is no rate limit.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// Backend is the node behind the API.
type Backend interface {
	Info() nodeapi.Info
	Headers(from, to *nodeapi.Hash) ([]nodeapi.Hash, error)
	Block(id nodeapi.Hash) *wire.Block
	AddTx(ctx context.Context, tx *wire.Tx) error
	TxStatus(hs []nodeapi.Hash) []nodeapi.TxStatus
	MantleMetrics() nodeapi.MantleMetrics
	NetworkInfo() nodeapi.NetworkInfo
	SubscribeLIB() (<-chan nodeapi.LibInfo, func())
	MetricsHandler() http.Handler
	IsExecutor() bool

	BlockPeers(peers []string) error
	UnblockPeers(peers []string) error
	SetLinkFault(f nodeapi.LinkFault) error
	SetClockOffset(d time.Duration)
	Faults() nodeapi.Faults

	// Bugs and SetBugs read and switch the test-only bugs; SetBugs
	// refuses (a 400) a name it does not know and then changes nothing.
	Bugs() nodeapi.Bugs
	SetBugs(b nodeapi.Bugs) error
}

// DA is the data-availability side of a node; nil when it has none.
type DA interface {
	// MainRoutes mounts the DA routes of the main API.
	MainRoutes(mux *http.ServeMux)
	// TestingRoutes mounts the DA routes of the testing API.
	TestingRoutes(mux *http.ServeMux)
}

// maxBody is the request body limit (Nomos default: 10 MiB).
const maxBody = 10 << 20

// Main builds the main API handler.
func Main(b Backend, da DA, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cryptarchia/info", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, b.Info()) })
	mux.HandleFunc("GET /cryptarchia/headers", func(w http.ResponseWriter, r *http.Request) {
		var from, to *nodeapi.Hash
		for name, dst := range map[string]**nodeapi.Hash{"from": &from, "to": &to} {
			if s := r.URL.Query().Get(name); s != "" {
				h, err := nodeapi.ParseHash(s)
				if err != nil {
					http.Error(w, fmt.Sprintf("query %s: %v", name, err), http.StatusBadRequest)
					return
				}
				*dst = &h
			}
		}
		ids, err := b.Headers(from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, ids)
	})
	if !b.IsExecutor() {
		mux.HandleFunc("GET /cryptarchia/lib-stream", func(w http.ResponseWriter, r *http.Request) { libStream(w, r, b) })
	}
	mux.HandleFunc("POST /storage/block", func(w http.ResponseWriter, r *http.Request) {
		var id nodeapi.Hash
		if !readJSON(w, r, &id) {
			return
		}
		writeJSON(w, b.Block(id))
	})
	mux.HandleFunc("POST /mempool/add/tx", func(w http.ResponseWriter, r *http.Request) {
		var tx wire.Tx
		if !readJSON(w, r, &tx) {
			return
		}
		if err := b.AddTx(r.Context(), &tx); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, nil)
	})
	mux.HandleFunc("POST /mantle/status", func(w http.ResponseWriter, r *http.Request) {
		var hs []nodeapi.Hash
		if !readJSON(w, r, &hs) {
			return
		}
		writeJSON(w, b.TxStatus(hs))
	})
	mux.HandleFunc("GET /mantle/metrics", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, b.MantleMetrics()) })
	mux.HandleFunc("GET /network/info", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, b.NetworkInfo()) })
	mux.Handle("GET /metrics", b.MetricsHandler())
	if da != nil {
		da.MainRoutes(mux)
	}
	return recoverer(mux, log)
}

// Testing builds the testing API handler.
func Testing(b Backend, da DA, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	peers := func(f func([]string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var ps []string
			if !readJSON(w, r, &ps) {
				return
			}
			if err := f(ps); err != nil {
				http.Error(w, err.Error(), http.StatusUnprocessableEntity)
				return
			}
			writeJSON(w, nil)
		}
	}
	mux.HandleFunc("POST "+nodeapi.PathBlockPeers, peers(b.BlockPeers))
	mux.HandleFunc("POST "+nodeapi.PathUnblockPeers, peers(b.UnblockPeers))
	mux.HandleFunc("POST "+nodeapi.PathLinkFault, func(w http.ResponseWriter, r *http.Request) {
		var f nodeapi.LinkFault
		if !readJSON(w, r, &f) {
			return
		}
		if err := b.SetLinkFault(f); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		writeJSON(w, nil)
	})
	mux.HandleFunc("POST "+nodeapi.PathClockOffset, func(w http.ResponseWriter, r *http.Request) {
		var c nodeapi.ClockOffset
		if !readJSON(w, r, &c) {
			return
		}
		b.SetClockOffset(time.Duration(c.OffsetMS) * time.Millisecond)
		writeJSON(w, nil)
	})
	mux.HandleFunc("GET "+nodeapi.PathFaults, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, b.Faults()) })
	mux.HandleFunc("GET "+nodeapi.PathBugs, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, b.Bugs()) })
	mux.HandleFunc("POST "+nodeapi.PathBugs, func(w http.ResponseWriter, r *http.Request) {
		var set nodeapi.Bugs
		if !readJSON(w, r, &set) {
			return
		}
		if err := b.SetBugs(set); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, b.Bugs())
	})
	if da != nil {
		da.TestingRoutes(mux)
	}
	return recoverer(mux, log)
}

// recoverer turns a handler panic into a 500 so a bad request never takes
// the node down.
func recoverer(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// writeJSON writes v as a 200 JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// readJSON decodes the request body into v the way axum's Json extractor
// does: 415 without a JSON content type, 400 for malformed JSON, 422 for a
// shape that does not decode. It reports whether decoding succeeded.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != "application/json" && ct != "application/x-ndjson") {
		http.Error(w, "Expected request with `Content-Type: application/json`", http.StatusUnsupportedMediaType)
		return false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return false
	}
	if !json.Valid(data) {
		http.Error(w, "Failed to parse the request body as JSON", http.StatusBadRequest)
		return false
	}
	if err := json.Unmarshal(data, v); err != nil {
		var se *json.SyntaxError
		code := http.StatusUnprocessableEntity
		if errors.As(err, &se) {
			code = http.StatusBadRequest
		}
		http.Error(w, "Failed to deserialize the JSON body into the target type: "+err.Error(), code)
		return false
	}
	return true
}

// ReadJSON is readJSON for the DA routes of other packages.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool { return readJSON(w, r, v) }

// WriteJSON writes v as a 200 JSON answer.
func WriteJSON(w http.ResponseWriter, v any) { writeJSON(w, v) }

func libStream(w http.ResponseWriter, r *http.Request, b Backend) {
	ch, cancel := b.SubscribeLIB()
	defer cancel()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case li := <-ch:
			if enc.Encode(li) != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}
