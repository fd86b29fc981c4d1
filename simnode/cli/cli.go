// Package cli is the reference node's command line, reusable by any binary
// that embeds the node (the simnode binary and nomosrun's hidden node
// subcommand).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/simnode/api"
	"github.com/nomosrun/nomosrun/simnode/config"
	"github.com/nomosrun/nomosrun/simnode/logging"
	"github.com/nomosrun/nomosrun/simnode/node"
)

// Main runs the node with args (without the program name) until ctx ends or
// SIGTERM/SIGINT arrives; it returns the exit code: 0 after a clean
// shutdown, 1 on a runtime error, 2 on a usage or config error. With
// SignalCommand first it freezes or thaws the node instead (see there).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == SignalCommand {
		return signalMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("simnode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "node config YAML `file`")
	check := fs.Bool("check-config", false, "parse the config and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: simnode --config node.yaml [--check-config]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" && fs.NArg() == 1 {
		*path = fs.Arg(0) // nomos-node style: the config as the only argument
	}
	if *path == "" {
		fmt.Fprintln(stderr, "simnode: --config is required")
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "simnode:", err)
		return 2
	}
	if _, err := node.DevModeFromEnv(); err != nil {
		fmt.Fprintln(stderr, "simnode:", err)
		return 2
	}
	if *check {
		fmt.Fprintln(stdout, "config ok")
		return 0
	}
	log, closeLog, err := logging.New(logging.FromEnv(), cfg.Node.Role, cfg.Node.Index, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "simnode:", err)
		return 2
	}
	defer closeLog()
	log = log.With("node", cfg.Node.Name)
	if err := run(ctx, cfg, log); err != nil {
		log.Error("node failed", "err", err)
		fmt.Fprintln(stderr, "simnode:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, cfg *config.NodeConfig, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, err := node.New(cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	defer startTelemetry(ctx, n, log)()
	var da api.DA
	if d := n.DA(); d != nil {
		da = d
	}
	servers := []*http.Server{}
	serve := func(key, addr string, h http.Handler) error {
		if addr == "" {
			return nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("config key %s: listen on %s: %w", key, addr, err)
		}
		s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, s)
		go func() {
			if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server", "addr", addr, "err", err)
			}
		}()
		log.Info("http listening", "api", key, "addr", l.Addr().String())
		return nil
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, s := range servers {
			_ = s.Shutdown(sctx)
		}
	}()
	if err := serve("http.backend_settings.address", cfg.HTTP.BackendSettings.Address, api.Main(n, da, log)); err != nil {
		return err
	}
	if err := serve("testing_http.backend_settings.address", cfg.TestingHTTP.BackendSettings.Address, api.Testing(n, da, log)); err != nil {
		return err
	}
	err = n.Run(ctx)
	log.Info("node stopped")
	return err
}
