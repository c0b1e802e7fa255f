package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// root is the repository root, where package.json and build/ live.
const root = "../.."

// TestScenariosEndToEnd starts bench/wrangler.toml with internal/devserver
// and runs every scenario once, at the tiny size, against the Go room and the
// JS baseline. It checks that every expected frame arrived and that every
// figure is a finite, non-negative number; it sets no timing threshold.
func TestScenariosEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts wrangler dev; not in -short")
	}
	if _, err := os.Stat(filepath.Join(root, "build", "app.wasm")); err != nil {
		t.Fatal("build/app.wasm is missing; run `make build` first (make test does)")
	}
	sizes, err := sizesFor("tiny")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{
		Targets:         []Target{{"go", "/api/chat"}, {"js", "/js/api/chat"}},
		Scenarios:       allScenarios,
		SizeName:        "tiny",
		Sizes:           sizes,
		Timeout:         30 * time.Second,
		HoldJoinTimeout: 30 * time.Second,
		Serve:           "bench/wrangler.toml",
		Root:            root,
		FreshRSS:        true,
		Wasm:            filepath.Join(root, "build", "app.wasm"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(allScenarios) * 2; len(rep.Results) != want {
		t.Fatalf("%d results, want %d", len(rep.Results), want)
	}
	if rep.Wasm == nil || rep.Wasm.GzipBytes <= 0 {
		t.Errorf("no wasm size: %+v", rep.Wasm)
	}
	if rep.Machine.NProc <= 0 || rep.Machine.CPU == "" {
		t.Errorf("no machine: %+v", rep.Machine)
	}
	var table bytes.Buffer
	writeTable(&table, rep)
	t.Logf("the report as make bench prints it:\n%s", table.String())
	// The figures measured once per round, each with its spread over them.
	spreads := map[string][]string{
		"fanout": {"inbound", "deliveries", "latency p50", "latency p95", "latency p99", "worker CPU per message"},
		"typing": {"inbound", "deliveries", "latency p50", "latency p95", "latency p99", "worker CPU per message",
			"typing deliveries"},
		"wake": {"wake to last delivery p50"},
	}
	for _, res := range rep.Results {
		t.Run(res.Scenario+"/"+res.Target, func(t *testing.T) {
			t.Parallel()
			if !res.Complete || res.Missing != 0 || res.Expected <= 0 || res.Err != "" {
				t.Errorf("incomplete: %d of %d delivered, error %q, notes %v", res.Delivered, res.Expected, res.Err, res.Notes)
			}
			if res.Duplicates != 0 || res.ErrorFrames != 0 {
				t.Errorf("%d duplicates, %d error frames; notes %v", res.Duplicates, res.ErrorFrames, res.Notes)
			}
			if len(res.Metrics) == 0 {
				t.Fatal("no figures")
			}
			for _, n := range res.Notes {
				// Both rooms keep the typing rule (see typingCheck).
				if strings.HasPrefix(n, "typing rule:") {
					t.Errorf("%s", n)
				}
			}
			if m := lookup(&res, "typing deliveries"); res.Scenario == "typing" && (m == nil || m.Value == nil || *m.Value <= 0) {
				t.Errorf("no typing frame was forwarded: %+v", m)
			}
			for _, m := range res.Metrics {
				// chatbench started the server, so even RSS must be there.
				if m.Value == nil {
					t.Errorf("%s: not measured", m.Name)
					continue
				}
				if v := *m.Value; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Errorf("%s = %v %s, want a finite non-negative number", m.Name, v, m.Unit)
				}
			}
			for _, name := range spreads[res.Scenario] {
				m := lookup(&res, name)
				if m == nil || m.Value == nil {
					t.Errorf("%s: missing", name)
					continue
				}
				if m.Min == nil || m.Median == nil || m.Max == nil || m.Rounds != res.Params["rounds"] || len(m.PerRound) != m.Rounds {
					t.Errorf("%s: no spread over %d rounds: %+v", name, res.Params["rounds"], m)
					continue
				}
				if !(*m.Min <= *m.Median && *m.Median <= *m.Max) || *m.Value != *m.Median {
					t.Errorf("%s: value %v, min %v, median %v, max %v out of order", name, *m.Value, *m.Min, *m.Median, *m.Max)
				}
			}
		})
	}
}
