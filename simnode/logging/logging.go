// Package logging builds the node's slog logger from NOMOS_LOG_LEVEL,
// NOMOS_LOG_FILTER (target=level pairs, e.g. "consensus=debug,p2p=warn") and
// NOMOS_LOG_DIR (per-node files nomos-node-{i}.log / nomos-executor-{i}.log).
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Options are the logging settings.
type Options struct {
	Level  string // NOMOS_LOG_LEVEL
	Filter string // NOMOS_LOG_FILTER
	Dir    string // NOMOS_LOG_DIR
}

// FromEnv reads the options from the environment.
func FromEnv() Options {
	return Options{Level: os.Getenv("NOMOS_LOG_LEVEL"), Filter: os.Getenv("NOMOS_LOG_FILTER"), Dir: os.Getenv("NOMOS_LOG_DIR")}
}

// ParseLevel accepts debug, info, warn(ing), error in any case; empty is info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q is not debug, info, warn or error", s)
}

// ParseFilter parses "target=level,..." pairs.
func ParseFilter(s string) (map[string]slog.Level, error) {
	out := map[string]slog.Level{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		target, level, ok := strings.Cut(part, "=")
		if !ok || target == "" {
			return nil, fmt.Errorf("log filter %q: want target=level", part)
		}
		l, err := ParseLevel(level)
		if err != nil {
			return nil, fmt.Errorf("log filter %q: %w", part, err)
		}
		out[strings.TrimSpace(target)] = l
	}
	return out, nil
}

// FileName is the log file of a node: nomos-node-{i}.log for validators,
// nomos-executor-{i}.log for executors.
func FileName(role string, index int) string {
	if role == "executor" {
		return fmt.Sprintf("nomos-executor-%d.log", index)
	}
	return fmt.Sprintf("nomos-node-%d.log", index)
}

// New returns the logger, writing to w and, with a log dir, to the node's
// file too; close releases the file.
func New(opts Options, role string, index int, w io.Writer) (log *slog.Logger, close func() error, err error) {
	level, err := ParseLevel(opts.Level)
	if err != nil {
		return nil, nil, fmt.Errorf("NOMOS_LOG_LEVEL: %w", err)
	}
	filter, err := ParseFilter(opts.Filter)
	if err != nil {
		return nil, nil, fmt.Errorf("NOMOS_LOG_FILTER: %w", err)
	}
	close = func() error { return nil }
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("NOMOS_LOG_DIR: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(opts.Dir, FileName(role, index)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("NOMOS_LOG_DIR: %w", err)
		}
		w, close = io.MultiWriter(w, f), f.Close
	}
	min := level
	for _, l := range filter {
		min = minLevel(min, l)
	}
	inner := slog.NewTextHandler(w, &slog.HandlerOptions{Level: min})
	return slog.New(&filterHandler{inner: inner, level: level, filter: filter}), close, nil
}

func minLevel(a, b slog.Level) slog.Level {
	if a < b {
		return a
	}
	return b
}

// filterHandler applies a per-target level: the "target" attribute given by
// logger.With picks the level, others use the global one.
type filterHandler struct {
	inner  slog.Handler
	level  slog.Level
	filter map[string]slog.Level
	target string
}

func (h *filterHandler) effective() slog.Level {
	if l, ok := h.filter[h.target]; ok {
		return l
	}
	return h.level
}

func (h *filterHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.effective() }

func (h *filterHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.effective() {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *filterHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	for _, a := range attrs {
		if a.Key == "target" {
			c.target = a.Value.String()
		}
	}
	c.inner = h.inner.WithAttrs(attrs)
	return &c
}

func (h *filterHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	return &c
}
