package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// Main runs the server in this process's network namespace until ctx ends
// or SIGTERM/SIGINT arrives; args follow the subcommand. It returns the exit
// code: 0 after a clean stop, 1 when it cannot serve, 2 on bad usage. A
// namespace where rules cannot be made (no CAP_NET_ADMIN) does not stop
// it: /healthz answers the reason, so the runner reports it instead of a
// pod that never becomes ready.
func Main(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(Command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":"+strconv.Itoa(Port), "`address` to serve on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ep := kernelnet.CurrentEndpoint()
	srv := NewServer(ep)
	defer srv.Close()
	// Making the (empty) table proves the privilege once, up front.
	srv.unfit = ep.AddDrops(ctx, "", nil)
	if srv.unfit != nil {
		fmt.Fprintln(stderr, Command+": cannot manage this namespace's firewall:", srv.unfit)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, Command+":", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(shut)
	}()
	fmt.Fprintln(stderr, Command+": serving on", ln.Addr())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, Command+":", err)
		return 1
	}
	return 0
}
