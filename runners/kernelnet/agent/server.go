package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Server serves an Endpoint's operations over HTTP, one POST route each:
// /drops, /drops/remove, /delay, /delay/remove, /dial, /tcp, /udp,
// /udp/count, /send, /close, and GET /healthz.
type Server struct {
	ep    kernelnet.Endpoint
	unfit error // why the namespace cannot take rules, found at start

	mu     sync.Mutex
	next   int
	opened map[string]io.Closer // listeners and sinks by id
	sinks  map[string]kernelnet.Sink
}

// NewServer serves ep.
func NewServer(ep kernelnet.Endpoint) *Server {
	return &Server{ep: ep, opened: map[string]io.Closer{}, sinks: map[string]kernelnet.Sink{}}
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if s.unfit != nil {
			w.WriteHeader(http.StatusInternalServerError)
			reply(w, errResp{Error: "the network agent cannot manage its namespace's firewall (it needs CAP_NET_ADMIN): " + s.unfit.Error()})
			return
		}
		reply(w, struct{}{})
	})
	mux.HandleFunc("POST /drops", handle(func(ctx context.Context, r dropsReq) (any, error) {
		drops := make([]kernelnet.Drop, len(r.Drops))
		for i, d := range r.Drops {
			drops[i] = kernelnet.Drop{Out: d.Out, Peer: d.Peer, Percent: d.Percent}
		}
		return struct{}{}, s.ep.AddDrops(ctx, r.ID, drops)
	}))
	mux.HandleFunc("POST /drops/remove", handle(func(ctx context.Context, r dropsReq) (any, error) {
		return struct{}{}, s.ep.RemoveDrops(ctx, r.ID)
	}))
	mux.HandleFunc("POST /delay", handle(func(ctx context.Context, r delayReq) (any, error) {
		return struct{}{}, s.ep.AddDelay(ctx, r.Addr, r.Delay, r.Jitter)
	}))
	mux.HandleFunc("POST /delay/remove", handle(func(ctx context.Context, r delayReq) (any, error) {
		return struct{}{}, s.ep.RemoveDelay(ctx, r.Addr)
	}))
	mux.HandleFunc("POST /dial", handle(func(ctx context.Context, r dialReq) (any, error) {
		rtt, err := s.ep.Dial(ctx, r.To, r.Timeout)
		out := dialResp{RTT: rtt}
		if err != nil {
			out.Error, out.Timeout = err.Error(), kernelnet.IsTimeout(err)
		}
		return out, nil
	}))
	mux.HandleFunc("POST /tcp", handle(func(ctx context.Context, r listenReq) (any, error) {
		addr, c, err := s.ep.ListenTCP(ctx, r.Addr)
		if err != nil {
			return nil, err
		}
		return listenResp{ID: s.keep(c, nil), Addr: addr}, nil
	}))
	mux.HandleFunc("POST /udp", handle(func(ctx context.Context, r listenReq) (any, error) {
		sink, err := s.ep.ListenUDP(ctx, r.Addr)
		if err != nil {
			return nil, err
		}
		return listenResp{ID: s.keep(sink, sink), Addr: sink.Addr()}, nil
	}))
	mux.HandleFunc("POST /udp/count", handle(func(ctx context.Context, r countReq) (any, error) {
		s.mu.Lock()
		sink := s.sinks[r.ID]
		s.mu.Unlock()
		if sink == nil {
			return nil, fmt.Errorf("no sink %q", r.ID)
		}
		n, err := sink.Count(ctx, r.Tag, r.Count)
		return countResp{Count: n}, err
	}))
	mux.HandleFunc("POST /send", handle(func(ctx context.Context, r sendReq) (any, error) {
		return struct{}{}, s.ep.SendUDP(ctx, r.To, r.Tag, r.Count)
	}))
	mux.HandleFunc("POST /close", handle(func(_ context.Context, r closeReq) (any, error) {
		return struct{}{}, s.close(r.ID)
	}))
	return mux
}

// keep registers a listener or sink and returns its id.
func (s *Server) keep(c io.Closer, sink kernelnet.Sink) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := strconv.Itoa(s.next)
	s.opened[id] = c
	if sink != nil {
		s.sinks[id] = sink
	}
	return id
}

func (s *Server) close(id string) error {
	s.mu.Lock()
	c := s.opened[id]
	delete(s.opened, id)
	delete(s.sinks, id)
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("nothing open as %q", id)
	}
	return c.Close()
}

// Close closes every listener and sink still open.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, c := range s.opened {
		errs = append(errs, c.Close())
		delete(s.opened, id)
		delete(s.sinks, id)
	}
	return errors.Join(errs...)
}

// handle decodes a request body into Req, calls f and writes its answer,
// or the error as 500 with an errResp body.
func handle[Req any](f func(context.Context, Req) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			reply(w, errResp{Error: "bad request: " + err.Error()})
			return
		}
		out, err := f(r.Context(), req)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			reply(w, errResp{Error: err.Error(), NoNetem: errors.Is(err, kernelnet.ErrNoNetem)})
			return
		}
		reply(w, out)
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
