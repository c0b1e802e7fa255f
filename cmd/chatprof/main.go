// Command chatprof records a V8 CPU profile of a running `wrangler dev`
// through its inspector port (Chrome DevTools Protocol) while a command runs,
// and prints where workerd's JS thread spent its time, by function:
//
//	go run ./cmd/chatprof -inspector 9329 -- build/chatbench -url ... -scenarios fanout
//
// Build the worker without -s -w (scripts/build.sh with DEBUG=1) so that Go's
// Wasm functions carry names.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/coder/websocket"
)

type profile struct {
	Nodes []struct {
		ID        int `json:"id"`
		CallFrame struct {
			FunctionName string `json:"functionName"`
			URL          string `json:"url"`
			LineNumber   int    `json:"lineNumber"`
		} `json:"callFrame"`
		HitCount int   `json:"hitCount"`
		Children []int `json:"children"`
	} `json:"nodes"`
	Samples    []int   `json:"samples"`
	TimeDeltas []int64 `json:"timeDeltas"`
}

func main() {
	port := flag.Int("inspector", 9229, "wrangler dev's --inspector-port")
	top := flag.Int("top", 40, "functions to print")
	out := flag.String("o", "", "also write the raw .cpuprofile here (open it in Chrome DevTools)")
	flag.Parse()
	if err := run(*port, *top, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "chatprof:", err)
		os.Exit(1)
	}
}

func run(port, top int, out string, command []string) error {
	if len(command) == 0 {
		return fmt.Errorf("give the command to profile after --")
	}
	ctx := context.Background()
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/json", port))
	if err != nil {
		return err
	}
	var targets []struct {
		Title string `json:"title"`
		URL   string `json:"webSocketDebuggerUrl"`
	}
	json.NewDecoder(res.Body).Decode(&targets)
	res.Body.Close()
	if len(targets) == 0 {
		return fmt.Errorf("no inspector targets")
	}
	for _, t := range targets {
		fmt.Fprintf(os.Stderr, "target: %s %s\n", t.Title, t.URL)
	}
	// The inspector proxy only accepts local origins.
	conn, _, err := websocket.Dial(ctx, targets[0].URL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://localhost"}}})
	if err != nil {
		return err
	}
	conn.SetReadLimit(1 << 30)
	defer conn.CloseNow()
	id := 0
	call := func(method string, params any) (json.RawMessage, error) {
		id++
		msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
		if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
			return nil, err
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return nil, err
			}
			var r struct {
				ID     int             `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
			}
			json.Unmarshal(data, &r)
			if r.ID == id {
				if r.Error != nil {
					return nil, fmt.Errorf("%s: %s", method, r.Error)
				}
				return r.Result, nil
			}
		}
	}
	if _, err := call("Profiler.enable", map[string]any{}); err != nil {
		return err
	}
	call("Profiler.setSamplingInterval", map[string]any{"interval": 200})
	if _, err := call("Profiler.start", map[string]any{}); err != nil {
		return err
	}
	start := time.Now()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmdErr := cmd.Run()
	raw, err := call("Profiler.stop", map[string]any{})
	if err != nil {
		return err
	}
	var r struct {
		Profile profile `json:"profile"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if out != "" {
		b, _ := json.Marshal(r.Profile)
		os.WriteFile(out, b, 0o644)
	}
	report(r.Profile, top, time.Since(start))
	return cmdErr
}

func report(p profile, top int, wall time.Duration) {
	byID := map[int]int{}
	for i, n := range p.Nodes {
		byID[n.ID] = i
	}
	self := map[string]time.Duration{}
	var total, idle time.Duration
	for i, s := range p.Samples {
		d := time.Duration(p.TimeDeltas[i]) * time.Microsecond
		n := p.Nodes[byID[s]]
		name := n.CallFrame.FunctionName
		if name == "" {
			name = fmt.Sprintf("(anonymous %s:%d)", n.CallFrame.URL, n.CallFrame.LineNumber+1)
		}
		if name == "(idle)" || name == "(program)" {
			idle += d
			if name == "(idle)" {
				continue
			}
		}
		total += d
		self[name] += d
	}
	type kv struct {
		k string
		v time.Duration
	}
	var rows []kv
	for k, v := range self {
		rows = append(rows, kv{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].v > rows[j].v })
	fmt.Printf("\nworkerd JS thread over %v: busy %v\n", wall.Round(time.Millisecond), total.Round(time.Millisecond))
	var goTotal time.Duration
	for _, r := range rows {
		if strings.Contains(r.k, ".") && !strings.Contains(r.k, " ") {
			goTotal += r.v
		}
	}
	for i, r := range rows {
		if i >= top {
			break
		}
		fmt.Printf("%6.2f%%  %10v  %s\n", 100*float64(r.v)/float64(total), r.v.Round(time.Microsecond), r.k)
	}
}
