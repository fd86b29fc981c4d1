package k8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/nomosrun/nomosrun/internal/env"
)

// connectNodes sets every node's API URLs: NodePorts on host when the first
// node answers there within the probe timeout, else port-forwards.
func (c *Cluster) connectNodes(ctx context.Context, host string, nodePorts [][2]int) error {
	if !c.opts.PortForward {
		url := "http://" + hostPort(host, nodePorts[0][0])
		if err := probe(ctx, url, c.opts.ProbeTimeout); err == nil {
			for i, n := range c.nodes {
				n.api = "http://" + hostPort(host, nodePorts[i][0])
				n.testing = "http://" + hostPort(host, nodePorts[i][1])
			}
			c.log.Info("nodes reached on their NodePorts", "host", host)
			return nil
		} else {
			c.log.Warn("NodePorts do not answer; using port-forwards", "url", url, "err", err,
				"hint", "set "+env.K8sNodeHost.Name+" to an address of a cluster node")
		}
	}
	if c.config == nil {
		return errors.New("the NodePorts do not answer and there is no REST config to port-forward with")
	}
	for _, n := range c.nodes {
		fwd, err := newForwarder(c, n.name, portAPI, portTesting)
		if err != nil {
			return err
		}
		n.fwd = fwd
		n.api = "http://" + hostPort("127.0.0.1", fwd.local[0])
		n.testing = "http://" + hostPort("127.0.0.1", fwd.local[1])
		if err := fwd.connect(ctx); err != nil {
			return err
		}
	}
	c.log.Info("nodes reached through port-forwards")
	return nil
}

// probe polls url until it answers HTTP at all, with any status: the
// route is no node kind's in particular.
func probe(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// forwarder forwards fixed local ports to ports of a node's current pod.
// After a restart it is connected again to the new pod on the same ports, so
// the node's URLs never change.
type forwarder struct {
	c      *Cluster
	node   string
	local  []int
	remote []int

	mu   sync.Mutex
	stop chan struct{}
}

func newForwarder(c *Cluster, node string, remote ...int) (*forwarder, error) {
	f := &forwarder{c: c, node: node, local: make([]int, len(remote)), remote: remote}
	for i := range f.local {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("port-forward %s: %w", node, err)
		}
		f.local[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return f, nil
}

// connect (re)starts forwarding to the node's ready pod.
func (f *forwarder) connect(ctx context.Context) error {
	if f == nil {
		return nil
	}
	f.close()
	pod, err := f.c.readyPod(ctx, f.node, "")
	if err != nil {
		return err
	}
	if pod == nil {
		return fmt.Errorf("port-forward %s: no ready pod", f.node)
	}
	transport, upgrader, err := spdy.RoundTripperFor(f.c.config)
	if err != nil {
		return fmt.Errorf("port-forward %s: %w", f.node, err)
	}
	url := f.c.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(f.c.ns).
		Name(pod.Name).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stop, ready := make(chan struct{}), make(chan struct{})
	var ports []string
	for i := range f.local {
		ports = append(ports, strconv.Itoa(f.local[i])+":"+strconv.Itoa(f.remote[i]))
	}
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, ports, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return fmt.Errorf("port-forward %s: %w", f.node, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errc:
		return fmt.Errorf("port-forward %s: %w", f.node, err)
	case <-ctx.Done():
		close(stop)
		return ctx.Err()
	}
	f.mu.Lock()
	f.stop = stop
	f.mu.Unlock()
	return nil
}

// close stops forwarding; the local ports stop answering.
func (f *forwarder) close() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop != nil {
		close(f.stop)
		f.stop = nil
	}
}
