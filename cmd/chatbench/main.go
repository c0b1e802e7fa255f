// Command chatbench measures a chat server that speaks the public protocol:
// fan-out throughput and latency (also beside typing signals), connection
// rate, wake from eviction, one very large room, and the memory of many
// rooms. It can compare two implementations side by side (the Go room and
// the JS baseline of bench/wrangler.toml) and can start that server itself,
// which is the only way it can read workerd's memory.
//
//	chatbench -serve bench/wrangler.toml -path go=/api/chat,js=/js/api/chat
//	chatbench -url http://127.0.0.1:8787 -path /api/chat -scenarios fanout -json
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chatbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8787", "base URL of the chat server (ignored with -serve)")
	path := fs.String("path", "/api/chat", "route prefix, or name=prefix pairs to compare, e.g. go=/api/chat,js=/js/api/chat")
	baseline := fs.String("baseline", "", "a target measured for comparison only: its incomplete scenarios (a quadratic join storm that times out) are reported, not an error")
	scenarios := fs.String("scenarios", "all", "comma-separated: fanout,typing,connect,wake,hold,rooms")
	size := fs.String("size", "quick", "preset sizes: tiny, quick or full")
	serve := fs.String("serve", "", "start this wrangler config with internal/devserver (e.g. bench/wrangler.toml); enables RSS")
	root := fs.String("root", ".", "repository root for -serve")
	evictURL := fs.String("evict-url", "", "GET this to force eviction in wake (default with -serve: the config's /__test/evict); empty waits -idle")
	idle := fs.Duration("idle", 12*time.Second, "wake without -evict-url: how long to idle for the runtime's own eviction (it takes 10 s)")
	timeout := fs.Duration("timeout", 60*time.Second, "bound on every wait for joins and deliveries")
	holdJoin := fs.Duration("hold-join-timeout", 120*time.Second, "bound on the hold join storm (issue 6's target)")
	fresh := fs.Bool("fresh-rss", true, "with -serve, restart the server before each RSS scenario")
	holdDirect := fs.Bool("hold-direct", true, "with -serve, hold connects to the Worker's own workerd, past wrangler dev's proxy (which doubles open files per WebSocket)")
	wasm := fs.String("wasm", "", "report the raw and gzip size of this Wasm module")
	asJSON := fs.Bool("json", false, "print the results as JSON instead of a table")
	jsonFile := fs.String("json-file", "", "also write the JSON results to this file")
	prog := fs.String("progress", "auto", "progress bars on stderr: auto (when a terminal), on or off")
	quiet := fs.Bool("q", false, "no per-scenario log lines on stderr")
	sz := map[string]*int{}
	for _, f := range []struct{ name, usage string }{
		{"clients", "fanout and typing: clients in the room"},
		{"messages", "fanout and typing: messages each client sends"},
		{"fanout-rounds", "fanout and typing: rounds, each in a fresh room"},
		{"connects", "connect: connections"},
		{"connect-concurrency", "connect: joins in flight"},
		{"wake-clients", "wake: clients in the room"},
		{"wake-rounds", "wake: evictions measured"},
		{"hold", "hold: connections in the room"},
		{"hold-concurrency", "hold: joins in flight"},
		{"rooms", "rooms: rooms"},
		{"room-clients", "rooms: clients per room"},
		{"typing-per-message", "typing: typing frames each client sends before each message"},
	} {
		sz[f.name] = fs.Int(f.name, 0, f.usage+" (0: the -size preset)")
	}
	warmup := fs.Int("fanout-warmup", -1, "fanout and typing: unmeasured warm-up rounds per target, the only warm-up a run with fanout or typing gets; 0 for none (-1: the -size preset, 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets, err := parseTargets(*path)
	if err != nil {
		return err
	}
	scs, err := parseScenarios(*scenarios)
	if err != nil {
		return err
	}
	sizes, err := sizesFor(*size)
	if err != nil {
		return err
	}
	override(&sizes, sz)
	if *warmup >= 0 {
		sizes.FanoutWarmup = *warmup
	}
	cfg := Config{
		BaseURL: *base, Targets: targets, Scenarios: scs, SizeName: *size, Sizes: sizes,
		EvictURL: *evictURL, Idle: *idle, Timeout: *timeout, HoldJoinTimeout: *holdJoin,
		Serve: *serve, Root: *root, FreshRSS: *fresh, HoldDirect: *holdDirect, Wasm: *wasm,
	}
	if !*quiet {
		cfg.Log = stderr
	}
	switch *prog {
	case "on":
		cfg.Progress = stderr
	case "auto":
		if isTerminal(stderr) {
			cfg.Progress = stderr
		}
	case "off":
	default:
		return fmt.Errorf("-progress %q: want auto, on or off", *prog)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg)
	if rep == nil {
		return err
	}
	if *jsonFile != "" {
		f, ferr := os.Create(*jsonFile)
		if ferr != nil {
			return ferr
		}
		werr := writeJSON(f, rep)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	if *asJSON {
		if jerr := writeJSON(stdout, rep); jerr != nil {
			return jerr
		}
	} else {
		writeTable(stdout, rep)
	}
	if err != nil {
		return err
	}
	for _, r := range rep.Results {
		if !r.Complete && r.Target != *baseline {
			return fmt.Errorf("%s against %s is incomplete: %d of %d expected frames missing", r.Scenario, r.Target, r.Missing, r.Expected)
		}
	}
	return nil
}

// override replaces preset sizes with the flags that were given.
func override(s *Sizes, flags map[string]*int) {
	for name, field := range map[string]*int{
		"clients": &s.FanoutClients, "messages": &s.FanoutMessages, "fanout-rounds": &s.FanoutRounds,
		"connects": &s.Connects, "connect-concurrency": &s.ConnectConcurrency,
		"wake-clients": &s.WakeClients, "wake-rounds": &s.WakeRounds,
		"hold": &s.Hold, "hold-concurrency": &s.HoldConcurrency,
		"rooms": &s.Rooms, "room-clients": &s.RoomClients, "typing-per-message": &s.TypingPerMessage,
	} {
		if v := flags[name]; v != nil && *v > 0 {
			*field = *v
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
