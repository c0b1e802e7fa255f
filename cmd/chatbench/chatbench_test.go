package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
		ok   bool
	}{
		{name: "empty", ds: nil, p: 50, ok: false},
		{name: "p0 is meaningless", ds: ms(1), p: 0, ok: false},
		{name: "above 100", ds: ms(1), p: 101, ok: false},
		{name: "NaN", ds: ms(1), p: math.NaN(), ok: false},
		{name: "one value", ds: ms(7), p: 99, want: 7 * time.Millisecond, ok: true},
		{name: "median of four is the second", ds: ms(4, 1, 3, 2), p: 50, want: 2 * time.Millisecond, ok: true},
		{name: "unsorted input", ds: ms(9, 1, 5), p: 50, want: 5 * time.Millisecond, ok: true},
		{name: "p100 is the max", ds: ms(3, 9, 1), p: 100, want: 9 * time.Millisecond, ok: true},
		{name: "p99 of 100 is the 99th", ds: seq(100), p: 99, want: 99 * time.Millisecond, ok: true},
		{name: "p99 of 1000 is the 990th", ds: seq(1000), p: 99, want: 990 * time.Millisecond, ok: true},
		{name: "p95 of 10 is the max", ds: seq(10), p: 95, want: 10 * time.Millisecond, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := percentile(tt.ds, tt.p)
			if ok != tt.ok || got != tt.want {
				t.Errorf("percentile(%v) = %v, %v; want %v, %v", tt.p, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// seq is 1ms, 2ms, … n ms, shuffled by reversal.
func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(n-i) * time.Millisecond
	}
	return out
}

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xs   []float64
		want float64
		ok   bool
	}{
		{"none", nil, 0, false},
		{"one", []float64{3}, 3, true},
		{"odd, unsorted", []float64{9, 1, 5}, 5, true},
		{"even is the mean of the middle two", []float64{4, 1, 3, 2}, 2.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tt.xs...)
			got, ok := median(tt.xs)
			if got != tt.want || ok != tt.ok {
				t.Errorf("median(%v) = %v, %v; want %v, %v", tt.xs, got, ok, tt.want, tt.ok)
			}
			for i := range in {
				if in[i] != tt.xs[i] {
					t.Errorf("median sorted its input: %v", tt.xs)
				}
			}
		})
	}
}

func TestSpreadOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xs   []float64
		want spread
		ok   bool
	}{
		{name: "no rounds", xs: nil, ok: false},
		{name: "one round is its own spread", xs: []float64{812}, want: spread{812, 812, 812, 1}, ok: true},
		{name: "odd, unsorted", xs: []float64{845, 790, 812}, want: spread{790, 812, 845, 3}, ok: true},
		{name: "even: the median is the mean of the middle two", xs: []float64{4, 1, 3, 2}, want: spread{1, 2.5, 4, 4}, ok: true},
		{name: "equal rounds", xs: []float64{5, 5, 5}, want: spread{5, 5, 5, 3}, ok: true},
		{name: "an outlier moves min or max, not the median", xs: []float64{10, 11, 12, 13, 1000}, want: spread{10, 12, 1000, 5}, ok: true},
		{name: "non-finite rounds are left out", xs: []float64{math.NaN(), 3, math.Inf(1), 1, math.Inf(-1)}, want: spread{1, 2, 3, 2}, ok: true},
		{name: "nothing finite", xs: []float64{math.NaN(), math.Inf(1)}, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tt.xs...)
			got, ok := spreadOf(tt.xs)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("spreadOf(%v) = %+v, %v; want %+v, %v", tt.xs, got, ok, tt.want, tt.ok)
			}
			for i := range in {
				if !(in[i] == tt.xs[i] || math.IsNaN(in[i]) && math.IsNaN(tt.xs[i])) {
					t.Errorf("spreadOf modified its input: %v", tt.xs)
				}
			}
		})
	}
}

func TestRoundsMetric(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		xs              []float64
		ok              bool
		value, min, max float64 // when measured
		rounds          int
		measured        bool
		cell            string
	}{
		{name: "rounds", xs: []float64{1114, 1050, 1201}, ok: true, value: 1114, min: 1050, max: 1201, rounds: 3, measured: true, cell: "1114 (1050–1201)"},
		{name: "one round prints no spread", xs: []float64{452.5}, ok: true, value: 452.5, min: 452.5, max: 452.5, rounds: 1, measured: true, cell: "452.5"},
		{name: "even count", xs: []float64{3.1, 3.9, 3.5, 6.4}, ok: true, value: 3.7, min: 3.1, max: 6.4, rounds: 4, measured: true, cell: "3.70 (3.10–6.40)"},
		{name: "not ok", xs: []float64{1, 2}, ok: false, cell: "n/a"},
		{name: "no rounds", xs: nil, ok: true, cell: "n/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := roundsMetric("x", "u", "higher", tt.xs, tt.ok)
			if got := formatMetric(&m); got != tt.cell {
				t.Errorf("cell = %q, want %q", got, tt.cell)
			}
			if !tt.measured {
				if m.Value != nil || m.Min != nil || m.Median != nil || m.Max != nil || m.Rounds != 0 || m.PerRound != nil {
					t.Errorf("unmeasured figure carries values: %+v", m)
				}
				return
			}
			if m.Value == nil || m.Median == nil || m.Min == nil || m.Max == nil {
				t.Fatalf("measured figure lacks a value: %+v", m)
			}
			if *m.Value != tt.value || *m.Median != tt.value || *m.Min != tt.min || *m.Max != tt.max || m.Rounds != tt.rounds {
				t.Errorf("got value %v median %v min %v max %v rounds %d; want %v %v %v %v %d",
					*m.Value, *m.Median, *m.Min, *m.Max, m.Rounds, tt.value, tt.value, tt.min, tt.max, tt.rounds)
			}
			if len(m.PerRound) != len(tt.xs) || m.PerRound[0] != tt.xs[0] {
				t.Errorf("perRound = %v, want %v in run order", m.PerRound, tt.xs)
			}
		})
	}
}

func TestMetricJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		m       Metric
		want    []string
		notWant []string
	}{
		{name: "one run keeps the old shape", m: metric("rss idle", "MiB", "lower", 202.5, true),
			want: []string{`"name":"rss idle"`, `"value":202.5`, `"better":"lower"`}, notWant: []string{`"min"`, `"median"`, `"max"`, `"rounds"`, `"perRound"`}},
		{name: "rounds add their spread", m: roundsMetric("inbound", "msgs/s", "higher", []float64{3, 1, 2}, true),
			want: []string{`"value":2`, `"min":1`, `"median":2`, `"max":3`, `"rounds":3`, `"perRound":[3,1,2]`}},
		{name: "unmeasured is null", m: metric("rss idle", "MiB", "lower", 0, false), want: []string{`"value":null`}, notWant: []string{`"min"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %s", b, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(b), w) {
					t.Errorf("%s has %s", b, w)
				}
			}
		})
	}
}

func TestRateAndRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		got    float64
		gotOK  bool
		want   float64
		wantOK bool
	}{
		{"rate", first(rate(500, 2*time.Second)), second(rate(500, 2*time.Second)), 250, true},
		{"rate over zero time", 0, second(rate(5, 0)), 0, false},
		{"ratio", first(ratio(3, 4)), second(ratio(3, 4)), 0.75, true},
		{"ratio over zero", 0, second(ratio(1, 0)), 0, false},
		{"ratio of NaN", 0, second(ratio(math.NaN(), 1)), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.gotOK != tt.wantOK || (tt.wantOK && tt.got != tt.want) {
				t.Errorf("got %v, %v; want %v, %v", tt.got, tt.gotOK, tt.want, tt.wantOK)
			}
		})
	}
}

func first(v float64, _ bool) float64 { return v }
func second(_ float64, ok bool) bool  { return ok }

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	sent := time.Unix(1764000000, 123456789)
	tests := []struct {
		name string
		p    payload
	}{
		{"zero", payload{Run: "abc", Sent: sent}},
		{"sender and seq", payload{Run: "deadbeef-w3", Sender: 9999, Seq: 41, Sent: sent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePayload(tt.p.text())
			if err != nil {
				t.Fatal(err)
			}
			if got.Run != tt.p.Run || got.Sender != tt.p.Sender || got.Seq != tt.p.Seq || !got.Sent.Equal(tt.p.Sent) {
				t.Errorf("round trip: got %+v, want %+v", got, tt.p)
			}
		})
	}
}

func TestParsePayloadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"empty", ""},
		{"someone's chat", "hello world"},
		{"wrong tag", "chatbenc r 1 2 3"},
		{"too few fields", "chatbench r 1 2"},
		{"too many fields", "chatbench r 1 2 3 4"},
		{"negative sender", "chatbench r -1 2 3"},
		{"bad time", "chatbench r 1 2 soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if p, err := parsePayload(tt.text); err == nil {
				t.Errorf("parsePayload(%q) = %+v, want an error", tt.text, p)
			}
		})
	}
}

func TestStringField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, frame, key, want string
		ok                     bool
	}{
		{"type first", `{"type":"user_joined","userId":"u1","timestamp":"x"}`, "type", "user_joined", true},
		{"userId", `{"type":"user_joined","userId":"u1","timestamp":"x"}`, "userId", "u1", true},
		{"spaces", `{ "type" : "message" }`, "type", "message", true},
		{"key not there", `{"type":"pong"}`, "userId", "", false},
		{"not a string", `{"type":"message","id":7}`, "id", "", false},
		{"quoted key inside text is skipped", `{"text":"say \"userId\":\"evil\"","userId":"u2"}`, "userId", "u2", true},
		{"value with escapes stays raw", `{"userId":"a\"b"}`, "userId", `a\"b`, true},
		{"truncated", `{"type":"mess`, "type", "", false},
		{"key as a value then as a key", `{"a":"type","type":"pong"}`, "type", "pong", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := stringField([]byte(tt.frame), tt.key)
			if got != tt.want || ok != tt.ok {
				t.Errorf("stringField(%s, %q) = %q, %v; want %q, %v", tt.frame, tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestWSURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, path, want string
		wantErr                bool
	}{
		{name: "http", base: "http://127.0.0.1:8787", path: "/api/chat/r", want: "ws://127.0.0.1:8787/api/chat/r"},
		{name: "https and trailing slash", base: "https://x.workers.dev/", path: "/js/api/chat/r", want: "wss://x.workers.dev/js/api/chat/r"},
		{name: "ws kept", base: "ws://h:1", path: "api/chat", want: "ws://h:1/api/chat"},
		{name: "base with a path", base: "http://h/prefix", path: "/api/chat", want: "ws://h/prefix/api/chat"},
		{name: "bad scheme", base: "ftp://h", path: "/", wantErr: true},
		{name: "no host", base: "http://", path: "/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wsURL(tt.base, tt.path)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("wsURL(%q, %q) = %q, %v; want %q (error %v)", tt.base, tt.path, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []Target
		wantErr  bool
	}{
		{name: "one prefix", in: "/api/chat", want: []Target{{"/api/chat", "/api/chat"}}},
		{name: "pairs", in: "go=/api/chat, js=/js/api/chat/", want: []Target{{"go", "/api/chat"}, {"js", "/js/api/chat"}}},
		{name: "empty", in: "", wantErr: true},
		{name: "relative path", in: "go=api/chat", wantErr: true},
		{name: "no name", in: "=/api/chat", wantErr: true},
		{name: "duplicate", in: "a=/x,a=/y", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseTargets(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseTargets(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parseTargets(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("parseTargets(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     string
		wantErr  bool
	}{
		{name: "all", in: "all", want: "fanout,typing,connect,wake,hold,rooms"},
		{name: "empty is all", in: "", want: "fanout,typing,connect,wake,hold,rooms"},
		{name: "run order, not flag order", in: "rooms,fanout", want: "fanout,rooms"},
		{name: "typing alone", in: "typing", want: "typing"},
		{name: "unknown", in: "fanout,soak", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseScenarios(tt.in)
			if (err != nil) != tt.wantErr || (err == nil && strings.Join(got, ",") != tt.want) {
				t.Errorf("parseScenarios(%q) = %v, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr bool
	}{{"tiny", false}, {"quick", false}, {"full", false}, {"huge", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := sizesFor(tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("sizesFor(%q) error %v", tt.name, err)
			}
			if err != nil {
				return
			}
			for _, v := range []int{s.FanoutClients, s.FanoutMessages, s.FanoutRounds, s.Connects, s.ConnectConcurrency,
				s.WakeClients, s.WakeRounds, s.Hold, s.HoldConcurrency, s.Rooms, s.RoomClients, s.TypingPerMessage} {
				if v <= 0 {
					t.Errorf("%s has a size that is not positive: %+v", tt.name, s)
				}
			}
			if tt.name == "full" && (s.Hold != FullHold() || s.Rooms != 100) {
				t.Errorf("full must be the issue's sizes: %+v", s)
			}
			// Issue 6's fanout load: 50 clients, 20 messages each, one
			// warm-up round, and enough rounds for a stable median.
			wantRounds := map[string]int{"quick": 7, "full": 15}[tt.name]
			if wantRounds > 0 && (s.FanoutClients != 50 || s.FanoutMessages != 20 || s.FanoutWarmup != 1 || s.FanoutRounds != wantRounds) {
				t.Errorf("%s fanout is %d clients × %d messages, %d warm-up + %d rounds; want 50 × 20, 1 + %d",
					tt.name, s.FanoutClients, s.FanoutMessages, s.FanoutWarmup, s.FanoutRounds, wantRounds)
			}
			// Typing: several typing frames to each message.
			if s.TypingPerMessage < 3 {
				t.Errorf("%s typing sends %d typing frames per message; want several", tt.name, s.TypingPerMessage)
			}
			if tt.name == "tiny" && (s.FanoutRounds < 2 || s.WakeRounds < 2) {
				t.Errorf("tiny must run two rounds where a spread is reported: %+v", s)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	s, _ := sizesFor("quick")
	hold, zero := 42, 0
	override(&s, map[string]*int{"hold": &hold, "clients": &zero})
	q, _ := sizesFor("quick")
	if s.Hold != 42 || s.FanoutClients != q.FanoutClients {
		t.Errorf("override: got %+v", s)
	}
}

func TestParseCPUModel(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763 64-Core Processor\n", "AMD EPYC 7763 64-Core Processor"},
		{"no model", "processor : 0\n", "unknown CPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := parseCPUModel(strings.NewReader(tt.in)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTracker(t *testing.T) {
	t.Parallel()
	sent := time.Now()
	msg := func(run string, sender, seq int) string {
		return payload{Run: run, Sender: sender, Seq: seq, Sent: sent}.text()
	}
	tr := newTracker("r", 2, 4) // 2 receivers × (1 sender × 2 messages)
	tr.receive(0, sent.Add(time.Millisecond), msg("r", 0, 0))
	tr.receive(0, sent.Add(time.Millisecond), msg("r", 0, 0)) // duplicate
	tr.receive(1, sent.Add(2*time.Millisecond), msg("other", 0, 0))
	tr.receive(1, sent.Add(2*time.Millisecond), "hello")
	tr.receive(1, sent.Add(3*time.Millisecond), msg("r", 0, 0))
	tr.receive(0, sent.Add(4*time.Millisecond), msg("r", 0, 1))
	if tr.unique.Load() != 3 {
		t.Fatalf("unique = %d, want 3", tr.unique.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if tr.wait(ctx) {
		t.Fatal("wait returned true with a delivery missing")
	}
	tr.receive(1, sent.Add(5*time.Millisecond), msg("r", 0, 1))
	if !tr.wait(context.Background()) {
		t.Fatal("wait returned false with every delivery in")
	}
	lat, last, dups := tr.snapshot()
	if len(lat) != 4 || dups != 1 || !last.Equal(sent.Add(5*time.Millisecond)) {
		t.Errorf("snapshot = %v, %v, %d", lat, last, dups)
	}
}

// TestTypingFrames: a typing frame is counted apart from the messages,
// never as a delivery, and the check finds a frame sent back to its
// sender, one from nobody in the round, a member who heard fewer than the
// sender's messages, and a user forwarded too often.
func TestTypingFrames(t *testing.T) {
	t.Parallel()
	tr := newTracker("r", 1, 9)
	tr.typing = newTypingCount(3)
	cs := make([]*client, 3)
	for i := range cs {
		cs[i] = &client{idx: i, user: fmt.Sprintf("u%d", i), joined: make(chan struct{}), done: make(chan struct{})}
		cs[i].track.Store(tr)
	}
	at := time.Now()
	for _, c := range cs {
		for _, from := range []string{"u0", "u1", "u2"} {
			if from != c.user {
				c.handle(at, []byte(`{"type":"typing","userId":"`+from+`"}`))
			}
		}
	}
	if tr.unique.Load() != 0 {
		t.Fatalf("typing frames counted as %d message deliveries", tr.unique.Load())
	}
	if got := tr.typing.total.Load(); got != 6 {
		t.Errorf("typing total = %d, want 6", got)
	}
	if c := checkTyping(tr.typing, 1, time.Second, true); c != (typingCheck{}) {
		t.Errorf("a clean round: %+v", c)
	}
	cs[1].handle(at, []byte(`{"type":"typing","userId":"u1"}`))  // its own
	cs[1].handle(at, []byte(`{"type":"typing","userId":"bob"}`)) // nobody's
	// u0 to u2: 4 in all, where 3 are allowed (the first, 1 after its one
	// message, none for the 0 intervals of a 1 s span, and 1 to spare).
	for i := 0; i < 3; i++ {
		cs[2].handle(at, []byte(`{"type":"typing","userId":"u0"}`))
	}
	c := checkTyping(tr.typing, 1, time.Second, true)
	if c.self != 1 || c.stray != 1 || c.over != 1 || c.short != 0 {
		t.Errorf("check = %+v, want 1 self, 1 stray, 1 over", c)
	}
	fresh := newTypingCount(3)
	fresh.receive(0, "u1")
	if got := fresh.short(1); got != 5 {
		t.Errorf("short(1) = %d, want 5", got)
	}
	if c := checkTyping(fresh, 1, time.Second, true); c.short != 5 {
		t.Errorf("a round where 5 pairs heard nothing: %+v", c)
	}
	if c := checkTyping(fresh, 1, time.Second, false); c.short != 0 {
		t.Errorf("an incomplete round is not held to its messages: %+v", c)
	}
	var res Result
	c.report(&res)
	if len(res.Notes) != 3 || !strings.HasPrefix(res.Notes[0], "typing rule:") {
		t.Errorf("notes = %q", res.Notes)
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	v := func(x float64) *float64 { return &x }
	rep := &Report{Size: "tiny", Machine: Machine{NProc: 2, CPU: "AMD EPYC 7763 64-Core Processor", OS: "linux/amd64", Go: "go1.26"},
		Targets: []Target{{"go", "/api/chat"}, {"js", "/js/api/chat"}}, Results: []Result{
			{Scenario: "fanout", Target: "go", Expected: 4, Delivered: 4, Complete: true,
				Metrics: []Metric{{Name: "deliveries", Unit: "/s", Value: v(200), Better: "higher"}, {Name: "rss", Unit: "MiB", Better: "lower"}}},
			{Scenario: "fanout", Target: "js", Expected: 4, Delivered: 3, Missing: 1,
				Metrics: []Metric{{Name: "deliveries", Unit: "/s", Value: v(100), Better: "higher"}, {Name: "rss", Unit: "MiB", Better: "lower"}}},
		}}
	var buf bytes.Buffer
	writeTable(&buf, rep)
	out := buf.String()
	for _, want := range []string{"machine: nproc 2, AMD EPYC 7763 64-Core Processor", "go/js", "deliveries (/s)", "2.00", "n/a", "4/4 complete", "3/4 MISSING 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "median (min–max)") {
		t.Errorf("a table without rounds explains a spread:\n%s", out)
	}
}

// TestTableSpread prints a full-size fanout and wake as the table shows them:
// each figure over rounds as median (min–max), within 120 columns.
func TestTableSpread(t *testing.T) {
	t.Parallel()
	res := func(target string, scale float64) []Result {
		r := func(xs ...float64) []float64 {
			out := make([]float64, len(xs))
			for i, x := range xs {
				out[i] = x * scale
			}
			return out
		}
		fan := Result{Scenario: "fanout", Target: target, Expected: 750000, Delivered: 750000, Complete: true}
		fan.add(roundsMetric("inbound", "msgs/s", "higher", r(1114, 1050, 1201, 1090, 1130), true),
			roundsMetric("deliveries", "/s", "higher", r(55676, 52500, 60050, 54500, 56500), true),
			roundsMetric("latency p50", "ms", "lower", r(452.5, 430.1, 470.2, 440, 460), true),
			roundsMetric("latency p95", "ms", "lower", r(863.1, 801.4, 990.7, 850, 870), true),
			roundsMetric("latency p99", "ms", "lower", r(912.9, 880.2, 1043, 900, 920), true),
			roundsMetric("worker CPU per message", "µs", "lower", r(624, 590, 701, 610, 630), true))
		wake := Result{Scenario: "wake", Target: target, Expected: 1000, Delivered: 1000, Complete: true}
		wake.add(roundsMetric("wake to last delivery p50", "ms", "lower", r(3.78, 3.1, 6.48, 3.5, 3.9), true),
			metric("wake to last delivery p100", "ms", "lower", 6.48*scale, true))
		hold := Result{Scenario: "hold", Target: target, Expected: 19500, Delivered: 3152, Missing: 16348}
		hold.add(metric("broadcast to last delivery", "ms", "lower", 443.2, true))
		return []Result{fan, wake, hold}
	}
	rep := &Report{Size: "full", Machine: Machine{NProc: 2, CPU: "AMD EPYC 7763 64-Core Processor", OS: "linux/amd64", Go: "go1.26"},
		Targets: []Target{{"go", "/api/chat"}, {"js", "/js/api/chat"}}}
	rep.Results = append(res("go", 1), res("js", 1.08)...)
	var buf bytes.Buffer
	writeTable(&buf, rep)
	out := buf.String()
	t.Logf("\n%s", out)
	for _, want := range []string{"median (min–max)", "1114 (1050–1201)", "452.5 (430.1–470.2)", "912.9 (880.2–1043)", "3.78 (3.10–6.48)", "443.2"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "\t") || (!strings.HasPrefix(line, "server") && utf8.RuneCountInString(line) > 120) {
			t.Errorf("line wider than 120 columns (%d): %q", utf8.RuneCountInString(line), line)
		}
	}
}

func TestBar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n, total int64
		want     string
	}{
		{"empty", 0, 10, "[" + strings.Repeat(".", barWidth) + "] 0/10"},
		{"half", 5, 10, "[" + strings.Repeat("#", barWidth/2) + strings.Repeat(".", barWidth/2) + "] 5/10"},
		{"over is full", 12, 10, "[" + strings.Repeat("#", barWidth) + "] 10/10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := bar("x", tt.n, tt.total, time.Second); !strings.Contains(got, tt.want) {
				t.Errorf("bar = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestMetricDropsNonFinite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    float64
		ok   bool
		want bool
	}{
		{"finite", 1.5, true, true},
		{"not measured", 1.5, false, false},
		{"NaN", math.NaN(), true, false},
		{"Inf", math.Inf(1), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if m := metric("x", "u", "lower", tt.v, tt.ok); (m.Value != nil) != tt.want {
				t.Errorf("metric(%v, %v).Value = %v", tt.v, tt.ok, m.Value)
			}
		})
	}
}

func TestRoomNamesAreValid(t *testing.T) {
	t.Parallel()
	r := &runner{runID: "abc123"}
	for _, name := range []string{"/api/chat", "go", "js/x", "a b"} {
		room := r.room("fanout", Target{Name: name}, 7)
		for _, c := range room {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') || len(room) > 64 {
				t.Fatalf("target %q gives room %q, not ^[A-Za-z0-9_-]{1,64}$", name, room)
			}
		}
	}
}
