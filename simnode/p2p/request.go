package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Handle serves a request/response protocol: one request body in, one
// answer out (an error closes the stream without an answer).
func (n *Network) Handle(proto protocol.ID, f func(from peer.ID, req []byte) ([]byte, error)) {
	n.host.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(30 * time.Second))
		from := s.Conn().RemotePeer()
		if n.faults.isBlocked(from) {
			s.Reset()
			return
		}
		req, err := io.ReadAll(io.LimitReader(s, maxMessage))
		if err != nil {
			s.Reset()
			return
		}
		resp, err := f(from, req)
		if err != nil {
			s.Reset()
			return
		}
		_, _ = s.Write(resp)
	})
}

// Request sends req to p over proto and returns the answer, dialling p from
// the address book when needed. Link faults apply.
func (n *Network) Request(ctx context.Context, p peer.ID, proto protocol.ID, req []byte) ([]byte, error) {
	if n.faults.isBlocked(p) {
		return nil, errors.New("peer blocked")
	}
	if drop, delay := n.faults.shape(p); drop {
		return nil, errors.New("lost by link fault")
	} else if delay > 0 {
		time.Sleep(delay)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := n.host.NewStream(ctx, p, proto)
	if err != nil {
		return nil, fmt.Errorf("open stream to %s: %w", n.Name(p), err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if _, err := s.Write(req); err != nil {
		s.Reset()
		return nil, err
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return nil, err
	}
	return io.ReadAll(io.LimitReader(s, maxMessage))
}

// Directions counts the open connections to p by direction.
func (n *Network) Directions(p peer.ID) (inbound, outbound int) {
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if c.Stat().Direction == network.DirInbound {
			inbound++
		} else {
			outbound++
		}
	}
	return inbound, outbound
}
