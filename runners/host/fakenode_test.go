package host

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nomosrun/nomosrun/internal/env"
)

// The unit tests of process handling run this test binary as a stand-in
// node (envFakeNode=1): it listens on the ports of its config, answers
// /cryptarchia/info and misbehaves as FAKE_NODE_MODE asks. The conformance
// suite runs the real reference node instead.
const envFakeNode = "HOST_TEST_FAKE_NODE"

// fakeConfig is the config file the fake node reads.
type fakeConfig struct {
	Name  string `json:"name"`
	Host  string `json:"host"`
	Ports Ports  `json:"ports"`
}

// writeFakeConfigs is a ConfigWriter for the fake node.
func writeFakeConfigs(spec ConfigSpec) ([][]string, error) {
	var args [][]string
	for i, n := range spec.Plan.Topology.Nodes {
		b, err := json.Marshal(fakeConfig{Name: n.Name, Host: hostOf(spec, i), Ports: spec.Ports[i]})
		if err != nil {
			return nil, err
		}
		p := filepath.Join(spec.ConfigDir, n.Name+".json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		args = append(args, []string{"--config", p})
	}
	return args, nil
}

// fakeNodeMain runs the stand-in node and never returns.
func fakeNodeMain() {
	mode := os.Getenv("FAKE_NODE_MODE")
	if len(os.Args) < 3 || os.Args[len(os.Args)-2] != "--config" {
		fmt.Println("usage: node --config FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Println("read config:", err)
		os.Exit(2)
	}
	var cfg fakeConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		fmt.Println("parse config:", err)
		os.Exit(2)
	}
	cwd, _ := os.Getwd()
	fmt.Printf("starting %s cwd=%s log_dir=%s log_level=%s\n", cfg.Name, cwd, env.LogDir.Get(), env.LogLevel.Get())
	switch mode {
	case "bindfail-once":
		marker := filepath.Join(cwd, "attempted")
		if _, err := os.Stat(marker); err != nil {
			_ = os.WriteFile(marker, nil, 0o644)
			fmt.Printf("listen tcp 127.0.0.1:%d: bind: address already in use\n", cfg.Ports.API)
			os.Exit(1)
		}
	case "exit-at-start":
		fmt.Println("fatal: bad genesis")
		os.Exit(4)
	case "never-listen":
		select {}
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	case "child":
		c := exec.Command("sleep", "60")
		if err := c.Start(); err != nil {
			fmt.Println("start child:", err)
			os.Exit(2)
		}
		_ = os.WriteFile(filepath.Join(cwd, "child.pid"), []byte(strconv.Itoa(c.Process.Pid)), 0o644)
	}
	var height atomic.Int64
	go func() {
		for range time.Tick(50 * time.Millisecond) {
			height.Add(1)
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cryptarchia/info", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"height":%d,"slot":%d,"mode":"Online","tip":"00","lib":"00"}`, height.Load(), height.Load())
	})
	for _, p := range []int{cfg.Ports.API, cfg.Ports.Testing} {
		l, err := net.Listen("tcp", hostPort(cfg.Host, p))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		go func() { _ = http.Serve(l, mux) }()
	}
	fmt.Println("listening")
	if mode == "crash" {
		time.Sleep(300 * time.Millisecond)
		fmt.Println("fatal: boom")
		os.Exit(3)
	}
	if mode == "ignore-term" {
		select {}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	fmt.Println("stopping on SIGTERM")
	os.Exit(0)
}
