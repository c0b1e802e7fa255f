package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/chatroom/gochat/internal/devserver"
)

// Target is one chat implementation behind a route prefix: /api/chat for the
// Go room, /js/api/chat for the JS baseline of bench/wrangler.toml. Rooms are
// Path + "/" + name.
type Target struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// parseTargets reads -path: either one prefix ("/api/chat", named after
// itself) or a comma-separated list of name=prefix pairs.
func parseTargets(s string) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, path, ok := strings.Cut(part, "=")
		if !ok {
			name, path = part, part
		}
		name, path = strings.TrimSpace(name), strings.TrimRight(strings.TrimSpace(path), "/")
		if name == "" || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("-path %q: want /prefix or name=/prefix[,name=/prefix]", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("-path: target %q given twice", name)
		}
		seen[name] = true
		out = append(out, Target{Name: name, Path: path})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-path: no target")
	}
	return out, nil
}

// Scenarios chatbench knows, in the order they run.
var allScenarios = []string{"fanout", "typing", "connect", "wake", "hold", "rooms"}

func parseScenarios(s string) ([]string, error) {
	if s == "" || s == "all" {
		return allScenarios, nil
	}
	want := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		known := false
		for _, k := range allScenarios {
			known = known || k == p
		}
		if !known {
			return nil, fmt.Errorf("unknown scenario %q; known: %s", p, strings.Join(allScenarios, ", "))
		}
		want[p] = true
	}
	var out []string
	for _, k := range allScenarios {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// Sizes are the scenario sizes. Presets come from sizesFor; flags override.
type Sizes struct {
	FanoutClients  int `json:"fanoutClients"`
	FanoutMessages int `json:"fanoutMessages"`
	FanoutRounds   int `json:"fanoutRounds"`
	// FanoutWarmup rounds run first, unmeasured, for every target, and
	// nothing else warms a target before them (see Run). The presets run
	// one, the load issue 6 prescribes: it loads each room's code and makes
	// its first object, but V8 is still tiering hot code up in the first
	// measured rounds (TurboFan was still compiling the Go room's 5 MB of
	// Wasm after two rounds), which the figures therefore include; the
	// median of many short rounds, and their min and max, show how much.
	FanoutWarmup       int `json:"fanoutWarmup"`
	Connects           int `json:"connects"`
	ConnectConcurrency int `json:"connectConcurrency"`
	WakeClients        int `json:"wakeClients"`
	WakeRounds         int `json:"wakeRounds"`
	Hold               int `json:"hold"`
	HoldConcurrency    int `json:"holdConcurrency"`
	Rooms              int `json:"rooms"`
	RoomClients        int `json:"roomClients"`
	// TypingPerMessage is how many typing frames a member of typing sends
	// before each of its messages: several to one, most of them dropped by
	// the rooms' throttle. Typing's other sizes are fanout's.
	TypingPerMessage int `json:"typingPerMessage"`
}

// IssueHold is the hold size issue 6 sets its target at.
const IssueHold = 10000

// Issue 6's fanout load, for quick and full alike: 50 clients, 20 messages
// each, a new room per round, no warm-up beyond one round. The rounds are
// short (1,000 messages), so there are many: a stable median, and a spread.
// Typing runs the same load with typingPerMessage typing frames before each
// message.
const (
	issueFanoutClients  = 50
	issueFanoutMessages = 20
	issueFanoutWarmup   = 1
	typingPerMessage    = 4
)

// sizesFor returns a preset: tiny (the make test check; two rounds where a
// figure is measured over rounds, so that the spread is exercised), quick
// (make bench, under two minutes on two cores) or full (the issue's sizes).
func sizesFor(name string) (Sizes, error) {
	switch name {
	case "tiny":
		return Sizes{FanoutClients: 3, FanoutMessages: 2, FanoutRounds: 2, FanoutWarmup: 1, Connects: 4, ConnectConcurrency: 2,
			WakeClients: 2, WakeRounds: 2, Hold: 5, HoldConcurrency: 5, Rooms: 3, RoomClients: 2, TypingPerMessage: typingPerMessage}, nil
	case "quick":
		return Sizes{FanoutClients: issueFanoutClients, FanoutMessages: issueFanoutMessages, FanoutRounds: 7, FanoutWarmup: issueFanoutWarmup,
			Connects: 200, ConnectConcurrency: 10,
			WakeClients: 10, WakeRounds: 15, Hold: 1000, HoldConcurrency: 32, Rooms: 100, RoomClients: 3, TypingPerMessage: typingPerMessage}, nil
	case "full":
		return Sizes{FanoutClients: issueFanoutClients, FanoutMessages: issueFanoutMessages, FanoutRounds: 15, FanoutWarmup: issueFanoutWarmup,
			Connects: 500, ConnectConcurrency: 20,
			WakeClients: 50, WakeRounds: 20, Hold: FullHold(), HoldConcurrency: 64, Rooms: 100, RoomClients: 3, TypingPerMessage: typingPerMessage}, nil
	}
	return Sizes{}, fmt.Errorf("unknown size %q; want tiny, quick or full", name)
}

// Config is one chatbench run.
type Config struct {
	// BaseURL is the server; ignored when Serve starts one.
	BaseURL   string
	Targets   []Target
	Scenarios []string
	SizeName  string
	Sizes     Sizes
	// EvictURL is GET to force eviction in wake; empty means waiting Idle
	// for the runtime's own eviction. Serve sets it to the bench config's.
	EvictURL string
	Idle     time.Duration
	// Timeout bounds every wait for deliveries; HoldJoinTimeout bounds the
	// hold join storm (issue 6's target is 120 s).
	Timeout         time.Duration
	HoldJoinTimeout time.Duration
	// Serve is a wrangler config to start with internal/devserver, relative
	// to Root; chatbench can then read workerd's RSS. FreshRSS restarts that
	// server before each RSS scenario, so that one target's memory does not
	// count against the next.
	Serve    string
	Root     string
	FreshRSS bool
	// HoldDirect makes hold, with Serve, connect to the Worker's own workerd
	// rather than through wrangler dev's proxy (see devserver.WorkerURL).
	HoldDirect bool
	// Wasm is the module whose size the report gives; optional.
	Wasm string
	// Progress receives progress bars; nil for none. Log receives a line per
	// scenario; nil for none.
	Progress io.Writer
	Log      io.Writer
}

// runner carries what every scenario needs.
type runner struct {
	cfg   Config
	srv   *devserver.Server
	runID string
}

// Run runs every scenario against every target and returns the report. It
// starts and stops the server when cfg.Serve is set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	rep := &Report{
		Date:      time.Now().UTC().Format(time.RFC3339),
		Size:      cfg.SizeName,
		Machine:   machine(),
		OpenFiles: raiseOpenFiles(),
		Targets:   cfg.Targets,
	}
	if cfg.Wasm != "" {
		if w, err := wasmSize(cfg.Wasm); err == nil {
			rep.Wasm = w
		} else {
			rep.Notes = append(rep.Notes, "wasm size: "+err.Error())
		}
	}
	r := &runner{cfg: cfg, runID: newRunID()}
	r.logf("%s", rep.Machine.line())
	if cfg.Serve != "" {
		srv, err := devserver.Start(devserver.Options{Name: "chatbench", Root: cfg.Root, Config: cfg.Serve,
			Env: []string{"MINIFLARE_WORKERD_PATH=" + devserver.NextWorkerd(cfg.Root)}})
		if err != nil {
			return nil, err
		}
		defer srv.Stop()
		r.srv = srv
		r.cfg.BaseURL = srv.HTTP
		if r.cfg.EvictURL == "" {
			r.cfg.EvictURL = srv.HTTP + "/__test/evict"
		}
		rep.Server = fmt.Sprintf("wrangler dev --config %s started by chatbench at %s (workerd-next, log %s); RSS is workerd's VmRSS", cfg.Serve, srv.HTTP, srv.LogPath)
		if cfg.FreshRSS {
			rep.Server += ", restarted before each RSS scenario"
		}
	} else {
		rep.Server = r.cfg.BaseURL + " (not started by chatbench: RSS unavailable)"
	}
	if r.cfg.EvictURL == "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("wake: no -evict-url, so each round idles %v for the runtime's own eviction", cfg.Idle))
	}
	switch lim, _ := hardOpenFileLimit(); {
	case cfg.Sizes.Hold >= IssueHold || !contains(cfg.Scenarios, "hold"):
	case cfg.Sizes.Hold == FullHold():
		rep.Notes = append(rep.Notes, fmt.Sprintf("hold runs %d connections, the most the open-file hard limit of %d lets workerd hold here (issue 6 sets its target at %d)", cfg.Sizes.Hold, lim, IssueHold))
	default:
		rep.Notes = append(rep.Notes, fmt.Sprintf("hold is scaled down to %d connections (issue 6 sets its target at %d; run FULL=1)", cfg.Sizes.Hold, IssueHold))
	}
	// Fanout, when it runs, runs first, and its own warm-up round(s) are all
	// the warm-up a target gets: issue 6's load allows no other. The later
	// scenarios find the targets warm from fanout. Typing, which runs next,
	// has warm-up rounds of its own, like fanout's, and is likewise all the
	// warm-up of a run without fanout.
	if !contains(cfg.Scenarios, "fanout") && !contains(cfg.Scenarios, "typing") {
		for _, t := range cfg.Targets {
			if err := r.warm(ctx, t); err != nil {
				return rep, fmt.Errorf("warm-up of %s: %w", t.Name, err)
			}
		}
	}
	for _, sc := range cfg.Scenarios {
		if sc == "fanout" || sc == "typing" {
			r.logf("== %s against %d target(s), rounds interleaved", sc, len(cfg.Targets))
			begin, reloads := time.Now(), r.reloads()
			var results []Result
			if sc == "typing" {
				results = r.typing(ctx, cfg.Targets)
			} else {
				results = r.fanout(ctx, cfg.Targets)
			}
			for i := range results {
				if n := r.reloads() - reloads; n > 0 {
					results[i].note("INVALID: wrangler dev reloaded %d time(s) during this scenario (a file it serves, such as build/app.wasm, changed), dropping connections; rerun", n)
				}
				r.logf("   %s/%s in %v: %s", sc, results[i].Target, time.Since(begin).Round(time.Millisecond), delivery(&results[i]))
			}
			rep.Results = append(rep.Results, results...)
			continue
		}
		for _, t := range cfg.Targets {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			r.logf("== %s against %s (%s)", sc, t.Name, t.Path)
			begin, reloads := time.Now(), r.reloads()
			res := r.scenario(ctx, sc, t)
			if n := r.reloads() - reloads; n > 0 {
				res.note("INVALID: wrangler dev reloaded %d time(s) during this scenario (a file it serves, such as build/app.wasm, changed), dropping connections; rerun", n)
			}
			r.logf("   %s in %v: %s", sc, time.Since(begin).Round(time.Millisecond), delivery(&res))
			rep.Results = append(rep.Results, res)
		}
	}
	return rep, nil
}

func (r *runner) scenario(ctx context.Context, name string, t Target) Result {
	switch name {
	case "fanout":
		return r.fanout(ctx, []Target{t})[0]
	case "typing":
		return r.typing(ctx, []Target{t})[0]
	case "connect":
		return r.connect(ctx, t)
	case "wake":
		return r.wake(ctx, t)
	case "hold":
		return r.hold(ctx, t)
	case "rooms":
		return r.rooms(ctx, t)
	}
	return Result{Scenario: name, Target: t.Name, Err: "unknown scenario"}
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, format+"\n", args...)
	}
}

// room is a fresh room name for one scenario run, so that no history or
// member of an earlier run is in it.
// A target's name goes into room names only after anything a room name may
// not hold (a target named after its prefix, "/api/chat") becomes a dash.
func (r *runner) room(scenario string, t Target, n int) string {
	name := strings.Trim(strings.Map(func(c rune) rune {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			return c
		}
		return '-'
	}, t.Name), "-")
	return fmt.Sprintf("bench-%s-%s-%s-%d", scenario, name, r.runID, n)
}

func (r *runner) url(t Target, room string) (string, error) {
	return wsURL(r.cfg.BaseURL, t.Path+"/"+room)
}

// reloadLine is what wrangler dev logs when it reloads the worker because a
// file it bundles changed; every open WebSocket is dropped then.
const reloadLine = "Reloading local server"

// reloads counts the reloads in the log of the server chatbench runs.
func (r *runner) reloads() int {
	if r.srv == nil {
		return 0
	}
	data, err := os.ReadFile(r.srv.LogPath)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte(reloadLine))
}

// workerCPU is the Worker's workerd CPU time, when chatbench runs the server.
func (r *runner) workerCPU() (time.Duration, bool) {
	if r.srv == nil {
		return 0, false
	}
	d, err := r.srv.WorkerCPU()
	return d, err == nil
}

// workerRSS is the resident memory of the Worker's own workerd process.
func (r *runner) workerRSS() (int64, bool) {
	if r.srv == nil {
		return 0, false
	}
	n, err := r.srv.WorkerRSS()
	return n, err == nil
}

// rss is workerd's resident memory, when chatbench runs the server.
func (r *runner) rss() (int64, bool) {
	if r.srv == nil {
		return 0, false
	}
	n, err := r.srv.WorkerdRSS()
	return n, err == nil
}

// fresh restarts the server chatbench runs, so that an RSS scenario starts
// from an idle workerd, and warms the target's route.
func (r *runner) fresh(ctx context.Context) error {
	if r.srv == nil || !r.cfg.FreshRSS {
		return nil
	}
	r.srv.Stop()
	if err := r.srv.Restart(); err != nil {
		return err
	}
	r.cfg.BaseURL = r.srv.HTTP
	for _, t := range r.cfg.Targets {
		if err := r.warm(ctx, t); err != nil {
			return fmt.Errorf("warm-up of %s: %w", t.Name, err)
		}
	}
	return nil
}

// Warm-up load: enough messages for the runtime to compile the hot paths of
// both rooms with its optimising tier, so that the first measured round is
// not also a compile benchmark. Cold start is what wake measures.
const (
	warmClients  = 10
	warmMessages = 50
)

// warm sends a short burst through a target's own room before anything is
// measured, so that no scenario pays for loading code, creating the first
// object or the compiler's first tier. A run with fanout or typing does
// without it at the start (see Run); fresh still warms after each restart,
// which only the RSS scenarios ask for, after fanout.
func (r *runner) warm(ctx context.Context, t Target) error {
	fr := r.fanoutRound(ctx, t, r.room("warm", t, 0), r.runID+"-warm", warmClients, warmMessages, 0)
	closeAll(fr.clients)
	if fr.err != nil {
		return fr.err
	}
	if want := warmClients * warmClients * warmMessages; len(fr.lat) != want {
		return fmt.Errorf("%d of %d warm-up deliveries arrived", len(fr.lat), want)
	}
	return nil
}

// constructed reads the bench config's per-class constructor counts, or nil
// when the server has no such route.
func (r *runner) constructed(ctx context.Context) map[string]int {
	if r.cfg.EvictURL == "" {
		return nil
	}
	u := strings.TrimSuffix(r.cfg.EvictURL, "/evict") + "/constructed"
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var m map[string]int
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&m) != nil {
		return nil
	}
	return m
}

// evict forces every object out of memory, or waits for the runtime to do it.
func (r *runner) evict(ctx context.Context) (string, error) {
	if r.cfg.EvictURL == "" {
		select {
		case <-time.After(r.cfg.Idle): // an intentional idle: natural eviction
			return fmt.Sprintf("natural eviction (idled %v)", r.cfg.Idle), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	req, err := http.NewRequestWithContext(ctx, "GET", r.cfg.EvictURL, nil)
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %s", r.cfg.EvictURL, res.Status)
	}
	return "forced eviction (" + r.cfg.EvictURL + ")", nil
}

func newRunID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
