package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// waitTimeout bounds every wait: a deadline for a hang, not a speed
// requirement.
const waitTimeout = 10 * time.Second

// testOptions are a client of f's room with quick reconnects.
func testOptions(f *fakeRoom, user string) client.Options {
	return client.Options{URL: f.URL(), Room: "room1", UserID: user,
		BackoffMin: time.Millisecond, BackoffMax: 10 * time.Millisecond}
}

func dial(t *testing.T, opts client.Options) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// next returns the client's next event.
func next(t testing.TB, c *client.Client) client.Event {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("events closed (Err: %v)", c.Err())
		}
		return ev
	case <-timer.C:
		t.Fatal("timed out waiting for an event")
	}
	return nil
}

// until reads events until one of type T passes ok (nil: any) and returns
// it; seen, if not nil, collects every event read.
func until[T client.Event](t testing.TB, c *client.Client, ok func(T) bool, seen *[]client.Event) T {
	t.Helper()
	for {
		ev := next(t, c)
		if seen != nil {
			*seen = append(*seen, ev)
		}
		if e, is := ev.(T); is && (ok == nil || ok(e)) {
			return e
		}
	}
}

func state(s client.State) func(*client.Status) bool {
	return func(st *client.Status) bool { return st.State == s }
}

// closed waits for the end of Events, returning what was still in it.
func closed(t testing.TB, c *client.Client) []client.Event {
	t.Helper()
	var rest []client.Event
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return rest
			}
			rest = append(rest, ev)
		case <-timer.C:
			t.Fatal("Events was not closed")
		}
	}
}

// drain reads events in the background until the client ends, for tests
// that only look at sends.
func drain(c *client.Client) {
	go func() {
		for range c.Events() {
		}
	}()
}

// ids lists the message ids delivered in events, from Messages and
// Histories, in order.
func ids(events []client.Event) []int64 {
	var out []int64
	for _, ev := range events {
		switch ev := ev.(type) {
		case *client.Message:
			out = append(out, ev.ID)
		case *client.History:
			for _, m := range ev.Messages {
				out = append(out, m.ID)
			}
		}
	}
	return out
}

func count(texts []string, text string) int {
	n := 0
	for _, s := range texts {
		if s == text {
			n++
		}
	}
	return n
}

// waitQueued waits until c holds n sends for the connection.
func waitQueued(t *testing.T, c *client.Client, n int) {
	t.Helper()
	ctx := ctxT(t)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for c.Queued() != n {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("queued %d, want %d", c.Queued(), n)
		}
	}
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts client.Options
		want string
	}{
		{"no user", client.Options{}, "UserID"},
		{"bad room", client.Options{UserID: "a", Room: "a/b"}, "invalid room"},
		{"bad user", client.Options{UserID: "a\nb"}, "control"},
		{"bad scheme", client.Options{UserID: "a", URL: "ftp://x"}, "http"},
		{"negative since", client.Options{UserID: "a", Since: -1}, "Since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := client.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	const lo, hi = 500 * time.Millisecond, 10 * time.Second
	for _, tc := range []struct {
		n    int
		base time.Duration
	}{{0, lo}, {1, 2 * lo}, {4, 8 * time.Second}, {5, hi}, {40, hi}, {1000, hi}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			t.Parallel()
			if d := client.Backoff(tc.n, lo, hi, 0); d != tc.base/2 {
				t.Errorf("r=0: %v, want %v", d, tc.base/2)
			}
			if d := client.Backoff(tc.n, lo, hi, 0.999999); d < tc.base*99/100 || d > tc.base {
				t.Errorf("r≈1: %v, want just under %v", d, tc.base)
			}
		})
	}
}

// TestJoinAndSend: the events of a join, in order, and a send that returns
// the stored message once the room echoed it.
func TestJoinAndSend(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	c := dial(t, testOptions(f, "alice"))
	var seen []client.Event
	until(t, c, state(client.Open), &seen)
	var kinds []string
	for _, ev := range seen {
		kinds = append(kinds, fmt.Sprintf("%T", ev))
	}
	if got := strings.Join(kinds, " "); got != "*client.Status *client.UserJoined *client.Presence *client.History *client.Status" {
		t.Fatalf("join events %s", got)
	}
	if st := seen[0].(*client.Status); st.State != client.Connecting {
		t.Errorf("first status %v, want connecting", st.State)
	}
	if p := seen[2].(*client.Presence); fmt.Sprint(p.Users) != "[alice]" || p.Count != 1 || string(p.Raw) != `{"type":"presence","users":["alice"]}` {
		t.Errorf("presence %+v %s", p, p.Raw)
	}

	m, err := c.Send(ctxT(t), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 1 || m.UserID != "alice" || m.Text != "hello" || m.Time.IsZero() || m.Time.Format(protocol.TimeLayout) != m.Timestamp {
		t.Errorf("Send returned %+v", m)
	}
	ev := until[*client.Message](t, c, nil, nil)
	if ev.ID != 1 || !strings.HasPrefix(string(ev.Raw), `{"type":"message","id":1,`) {
		t.Errorf("message event %+v %s", ev, ev.Raw)
	}
	if c.LastID() != 1 {
		t.Errorf("LastID %d", c.LastID())
	}
}

// TestRoomErrors: a refused send returns the room's error as a *RoomError,
// which also arrives as an Error event, and answers only that send.
func TestRoomErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code  string
		retry time.Duration
	}{
		{protocol.CodeMessageTooLong, 0},
		{protocol.CodeRateLimited, 250 * time.Millisecond},
		{protocol.CodeContentBlocked, 0},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			f.onMessage = func(text string) string {
				if text == "bad" {
					return tc.code
				}
				return ""
			}
			c := dial(t, testOptions(f, "alice"))
			until(t, c, state(client.Open), nil)
			_, err := c.Send(ctxT(t), "bad")
			var re *client.RoomError
			if !errors.As(err, &re) || re.Code != tc.code || re.RetryAfter != tc.retry || re.Text != "bad" {
				t.Fatalf("Send: %#v, want a RoomError %s", err, tc.code)
			}
			if ev := until[*client.Error](t, c, nil, nil); ev.Err.Code != tc.code || !strings.Contains(string(ev.Raw), tc.code) {
				t.Errorf("error event %+v", ev.Err)
			}
			if m, err := c.Send(ctxT(t), "good"); err != nil || m.ID != 1 {
				t.Errorf("the next send: %+v %v", m, err)
			}
		})
	}
}

// TestResumeAfterDrop: a client cut off while others talk rejoins with
// since = the last id it saw and gets exactly what it missed.
func TestResumeAfterDrop(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	c := dial(t, testOptions(f, "alice"))
	var seen []client.Event
	until(t, c, state(client.Open), &seen)
	f.inject("bob", "one")
	f.inject("bob", "two")
	until(t, c, func(m *client.Message) bool { return m.ID == 2 }, &seen)

	f.set(func(f *fakeRoom) {
		f.refuse = func(*http.Request) (int, string) { return 503, protocol.CodeStorage }
	})
	f.kick(0, "")
	if st := until(t, c, state(client.Reconnecting), &seen); st.Err == nil || st.Attempt != 1 {
		t.Errorf("reconnecting %+v", st)
	}
	for _, text := range []string{"three", "four", "five"} {
		f.inject("bob", text)
	}
	f.set(func(f *fakeRoom) {
		f.refuse = nil
		f.ignoreSince = true // the history repeats 1 and 2: they are dropped
	})
	h := until[*client.History](t, c, nil, &seen)
	if !h.Resumed || h.Reset || h.Truncated || fmt.Sprint(ids([]client.Event{h})) != "[3 4 5]" {
		t.Errorf("resumed history %+v", h)
	}
	until(t, c, state(client.Open), &seen)
	f.inject("bob", "six")
	until(t, c, func(m *client.Message) bool { return m.ID == 6 }, &seen)
	if got := fmt.Sprint(ids(seen)); got != "[1 2 3 4 5 6]" {
		t.Errorf("delivered ids %s, want each once in order", got)
	}
	f.mu.Lock()
	last := f.joins[len(f.joins)-1]
	f.mu.Unlock()
	if last.since != 2 {
		t.Errorf("rejoin since %d, want 2", last.since)
	}
}

// TestSendQueue: sends made while reconnecting wait in a bounded queue, a
// cancelled one is withdrawn, one that does not fit fails at once, and the
// rest go out after the rejoin, each stored once.
func TestSendQueue(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	opts := testOptions(f, "alice")
	opts.QueueSize = 3
	c := dial(t, opts)
	until(t, c, state(client.Open), nil)
	f.set(func(f *fakeRoom) {
		f.refuse = func(*http.Request) (int, string) { return 503, "room_full" }
	})
	f.kick(0, "")
	until(t, c, state(client.Reconnecting), nil)
	drain(c)

	type result struct {
		text string
		m    client.Message
		err  error
	}
	results := make(chan result, 3)
	send := func(text string) {
		go func() {
			m, err := c.Send(ctxT(t), text)
			results <- result{text, m, err}
		}()
	}
	send("q1")
	send("q2")
	waitQueued(t, c, 2)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(cancelled, "withdrawn"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled send: %v", err)
	}
	waitQueued(t, c, 2)
	send("q3")
	waitQueued(t, c, 3)
	if _, err := c.Send(ctxT(t), "q4"); !errors.Is(err, client.ErrQueueFull) {
		t.Errorf("send into a full queue: %v, want ErrQueueFull", err)
	}

	f.set(func(f *fakeRoom) { f.refuse = nil })
	got := map[int64]string{}
	for range 3 {
		r := <-results
		if r.err != nil || r.m.Text != r.text {
			t.Errorf("send %s: %+v %v", r.text, r.m, r.err)
		}
		got[r.m.ID] = r.text
	}
	texts := f.texts()
	if len(got) != 3 || len(texts) != 3 || got[3] != "q3" || count(texts, "q1") != 1 || count(texts, "q2") != 1 {
		t.Errorf("stored %v, sends answered %v", texts, got)
	}
}

// TestExactlyOnce: a send cut off by a drop is sent again only if the
// resumed history lacks it; with a truncated history it is reported, not
// risked.
func TestExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fate     string // what the room does with the first "x"
		truncate bool
		wantErr  error
	}{
		{"stored before the drop", "store-drop", false, nil},
		{"lost in the drop", "drop", false, nil},
		{"stored, resumed history truncated", "store-drop", true, client.ErrUnconfirmed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			var first atomic.Bool
			first.Store(true)
			f.onMessage = func(text string) string {
				if text != "x" || !first.CompareAndSwap(true, false) {
					return ""
				}
				if tc.truncate {
					// More than the resume window lands before x.
					f.set(func(f *fakeRoom) {
						f.resumeMax = 1
						f.store("bob", "b2")
						f.store("bob", "b3")
					})
				}
				return tc.fate
			}
			c := dial(t, testOptions(f, "alice"))
			until(t, c, state(client.Open), nil)
			f.inject("bob", "b1")
			until[*client.Message](t, c, nil, nil)
			drain(c)

			m, err := c.Send(ctxT(t), "x")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Send: %v, want %v", err, tc.wantErr)
			}
			if err == nil && (m.Text != "x" || m.UserID != "alice" || m.ID < 2) {
				t.Errorf("Send returned %+v", m)
			}
			// A later send on the same connection: any re-send of x was
			// written before it.
			if _, err := c.Send(ctxT(t), "after"); err != nil {
				t.Fatal(err)
			}
			if n := count(f.texts(), "x"); n != 1 {
				t.Errorf("x stored %d times: %v", n, f.texts())
			}
			f.mu.Lock()
			joins := slices.Clone(f.joins)
			f.mu.Unlock()
			if len(joins) != 2 || joins[1].since != 1 {
				t.Errorf("joins %+v, want a resume after id 1", joins)
			}
		})
	}
}

// TestSlowConsumer: a consumer that stops reading loses nothing. The client
// stops reading the socket instead, and the keepalive does not mistake that
// silence for a dead connection.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	opts := testOptions(f, "alice")
	opts.EventBuffer = 1
	// Short, but not so short that a reader starved of the CPU for a few
	// milliseconds (-race, parallel tests) misses its pong: that would be
	// a dead connection indeed.
	opts.PingInterval = 25 * time.Millisecond
	c := dial(t, opts)
	// Read up to the History only: the client then puts the Status that
	// says Open in the buffer and waits on the consumer with the
	// ReadState, joined, from now on. (Read to the end of the join, it
	// would sit idle until the first message, where a pong later than the
	// short interval is a dead connection indeed.)
	until[*client.History](t, c, nil, nil)

	const n = 300
	for i := 1; i <= n; i++ {
		f.inject("bob", fmt.Sprintf("m%d", i))
	}
	// Many keepalive intervals pass while the consumer reads nothing.
	f.waitFor(t, "pings", func(f *fakeRoom) bool { return f.pings >= 10 })
	var seen []client.Event
	until(t, c, func(m *client.Message) bool { return m.ID == n }, &seen)
	if st, ok := seen[0].(*client.Status); !ok || st.State != client.Open {
		t.Fatalf("first event %T %+v, want the Status that says Open", seen[0], seen[0])
	}
	if _, ok := seen[1].(*client.ReadState); !ok {
		t.Fatalf("second event %T %+v, want the join's ReadState", seen[1], seen[1])
	}
	for _, ev := range seen[2:] {
		if _, ok := ev.(*client.Message); !ok {
			t.Fatalf("event %T %+v among the messages: the connection was replaced", ev, ev)
		}
	}
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(ids(seen), want) {
		t.Errorf("ids %v", ids(seen))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upgrades != 1 {
		t.Errorf("%d upgrades, want 1", f.upgrades)
	}
}

// TestKeepalive: the client pings with the exact frame the runtime answers,
// and replaces a connection on which nothing arrives any more.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	opts := testOptions(f, "alice")
	opts.PingInterval = 10 * time.Millisecond
	c := dial(t, opts)
	until(t, c, state(client.Open), nil)
	f.waitFor(t, "exact pings", func(f *fakeRoom) bool { return f.pings >= 3 })
	f.freezeAll()
	st := until(t, c, state(client.Reconnecting), nil)
	if st.Err == nil || !strings.Contains(st.Err.Error(), "nothing arrived") {
		t.Errorf("reconnecting because %v", st.Err)
	}
	until(t, c, state(client.Open), nil)
}

// TestInvalidSinceStartsOver: a resume point the room does not know starts
// over from the room's latest messages.
func TestInvalidSinceStartsOver(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	for i := range 3 {
		f.inject("bob", fmt.Sprint(i))
	}
	opts := testOptions(f, "alice")
	opts.Since = 99
	c := dial(t, opts)
	h := until[*client.History](t, c, nil, nil)
	if !h.Reset || h.Resumed || fmt.Sprint(ids([]client.Event{h})) != "[1 2 3]" {
		t.Errorf("history %+v", h)
	}
	f.mu.Lock()
	joins := fmt.Sprint(f.joins)
	f.mu.Unlock()
	if joins != "[{alice 99} {alice -1}]" {
		t.Errorf("joins %s", joins)
	}
	if c.LastID() != 3 {
		t.Errorf("LastID %d", c.LastID())
	}
}

// TestTokens: the token goes as a bearer header, from TokenFunc before every
// connect; a 401 asks for one more token, once; a 4001 close reconnects at
// once with a fresh token.
func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	var n atomic.Int32
	opts := testOptions(f, "alice")
	opts.TokenFunc = func(context.Context) (string, error) { return fmt.Sprintf("t%d", n.Add(1)), nil }
	opts.BackoffMin, opts.BackoffMax = time.Hour, time.Hour // a wait would time the test out
	f.refuse = func(r *http.Request) (int, string) {
		if r.Header.Get("Authorization") == "Bearer t1" {
			return 401, "unauthorized"
		}
		return 0, ""
	}
	c := dial(t, opts)
	until(t, c, state(client.Open), nil)
	f.kick(client.CloseTokenExpired, "token expired")
	st := until(t, c, state(client.Reconnecting), nil)
	if st.Delay != 0 || websocket.CloseStatus(st.Err) != client.CloseTokenExpired {
		t.Errorf("after 4001: %+v", st)
	}
	until(t, c, state(client.Open), nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := fmt.Sprint(f.tokens); got != "[t1 t2 t3]" {
		t.Errorf("tokens %s, want t1 refused, then t2, then t3 after the 4001", got)
	}
}

// TestFatalUpgrade: refusals that no retry can heal end the client at once.
func TestFatalUpgrade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		status    int
		code      string
		tokenFunc bool
		upgrades  int
	}{
		{"forbidden origin", 403, "forbidden_origin", false, 1},
		{"unauthorized without a token func", 401, "unauthorized", false, 1},
		{"unauthorized twice", 401, "unauthorized", true, 2},
		{"not found", 404, "not_found", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			f.refuse = func(*http.Request) (int, string) { return tc.status, tc.code }
			opts := testOptions(f, "alice")
			if tc.tokenFunc {
				opts.TokenFunc = func(context.Context) (string, error) { return "expired", nil }
			}
			c, err := client.Dial(ctxT(t), opts)
			var he *client.HTTPError
			if c != nil || !errors.As(err, &he) || he.StatusCode != tc.status || he.Code != tc.code {
				t.Fatalf("Dial: %v %v, want HTTP %d %s", c, err, tc.status, tc.code)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.upgrades != tc.upgrades {
				t.Errorf("%d upgrades, want %d", f.upgrades, tc.upgrades)
			}
		})
	}
}

// TestFatalJoin: a join the room refuses for good ends the client: the
// error event, then Closed with the error, then the end of Events.
func TestFatalJoin(t *testing.T) {
	t.Parallel()
	for _, code := range []string{protocol.CodeInvalidUserID, protocol.CodeForbidden, "banned"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			f.onJoin = func(string) string { return code }
			c := dial(t, testOptions(f, "alice"))
			until[*client.Error](t, c, nil, nil)
			st := until(t, c, state(client.Closed), nil)
			var re *client.RoomError
			if !errors.As(st.Err, &re) || re.Code != code {
				t.Errorf("closed with %v", st.Err)
			}
			closed(t, c)
			if !errors.As(c.Err(), &re) || re.Code != code {
				t.Errorf("Err: %v", c.Err())
			}
			if _, err := c.Send(ctxT(t), "late"); !errors.As(err, &re) {
				t.Errorf("Send after the end: %v", err)
			}
		})
	}
}

// TestFatalOnReconnect: a refusal met while reconnecting ends the client,
// and the sends that waited fail with it.
func TestFatalOnReconnect(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	c := dial(t, testOptions(f, "alice"))
	until(t, c, state(client.Open), nil)
	f.set(func(f *fakeRoom) {
		f.refuse = func(*http.Request) (int, string) { return 503, "room_full" }
	})
	f.kick(0, "")
	until(t, c, state(client.Reconnecting), nil)
	sent := make(chan error, 1)
	go func() { _, err := c.Send(ctxT(t), "waiting"); sent <- err }()
	waitQueued(t, c, 1)
	f.set(func(f *fakeRoom) {
		f.refuse = func(*http.Request) (int, string) { return 403, "forbidden_origin" }
	})
	st := until(t, c, state(client.Closed), nil)
	var he *client.HTTPError
	if !errors.As(st.Err, &he) || he.StatusCode != 403 {
		t.Errorf("closed with %v", st.Err)
	}
	if err := <-sent; !errors.As(err, &he) {
		t.Errorf("the waiting send: %v", err)
	}
	closed(t, c)
}

// TestHTTPAPI: room info and history pages with the token and the query.
func TestHTTPAPI(t *testing.T) {
	t.Parallel()
	f := newFakeRoom(t)
	for i := range 4 {
		f.inject("bob", fmt.Sprint("m", i+1))
	}
	opts := testOptions(f, "alice")
	opts.Token = "tok"
	c, err := client.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	info, err := c.RoomInfo(ctx)
	if err != nil || info.Room != "room1" || info.LastMessageID != 4 {
		t.Errorf("RoomInfo: %+v %v", info, err)
	}
	page, err := c.Messages(ctx, client.MessagesQuery{Since: 1, Limit: 2, Before: 4})
	if err != nil || len(page.Messages) != 2 || page.Messages[0].ID != 2 || !page.Truncated {
		t.Errorf("Messages: %+v %v", page, err)
	}
	_, err = c.Messages(ctx, client.MessagesQuery{Since: 50})
	var he *client.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 400 || he.Code != protocol.CodeInvalidSince {
		t.Errorf("Messages past the end: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := "[/api/rooms/room1 token=tok /api/rooms/room1/messages?before=4&limit=2&since=1 token=tok /api/rooms/room1/messages?since=50 token=tok]"
	if got := fmt.Sprint(f.queries); got != want {
		t.Errorf("requests %s\nwant %s", got, want)
	}
}

// TestClose: Close returns promptly in every state, fails the sends that
// wait, and closes Events; nothing of the client is left running (TestMain
// checks for leaked goroutines).
func TestClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f *fakeRoom) *client.Client
	}{
		{"never connected", func(t *testing.T, f *fakeRoom) *client.Client {
			c, err := client.New(testOptions(f, "alice"))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"consumer not reading", func(t *testing.T, f *fakeRoom) *client.Client {
			opts := testOptions(f, "alice")
			opts.EventBuffer = 1
			c := dial(t, opts)
			f.waitFor(t, "join", func(f *fakeRoom) bool { return len(f.joins) == 1 })
			return c
		}},
		{"waiting to reconnect", func(t *testing.T, f *fakeRoom) *client.Client {
			opts := testOptions(f, "alice")
			opts.BackoffMin, opts.BackoffMax = time.Hour, time.Hour
			c := dial(t, opts)
			until(t, c, state(client.Open), nil)
			f.kick(0, "")
			until(t, c, state(client.Reconnecting), nil)
			return c
		}},
		{"open", func(t *testing.T, f *fakeRoom) *client.Client {
			c := dial(t, testOptions(f, "alice"))
			until(t, c, state(client.Open), nil)
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom(t)
			c := tc.setup(t, f)
			sent := make(chan error, 1)
			if tc.name != "open" {
				go func() { _, err := c.Send(context.Background(), "never sent"); sent <- err }()
				waitQueued(t, c, 1)
			} else {
				sent <- client.ErrClosed
			}
			done := make(chan struct{})
			go func() { c.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(waitTimeout):
				t.Fatal("Close did not return")
			}
			if err := <-sent; !errors.Is(err, client.ErrClosed) {
				t.Errorf("waiting send: %v, want ErrClosed", err)
			}
			closed(t, c)
			if c.Err() != nil {
				t.Errorf("Err after Close: %v", c.Err())
			}
			if _, err := c.Send(context.Background(), "late"); !errors.Is(err, client.ErrClosed) {
				t.Errorf("Send after Close: %v", err)
			}
			c.Close() // again: a no-op
		})
	}
}

// TestNoGoroutineOutlivesClose runs a client through a drop and a resume
// and checks that Close leaves no goroutine behind.
func TestNoGoroutineOutlivesClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFakeRoom(t)
	opts := testOptions(f, "alice")
	opts.PingInterval = 5 * time.Millisecond
	c, err := client.Dial(ctxT(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	until(t, c, state(client.Open), nil)
	if _, err := c.RoomInfo(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	f.kick(0, "")
	until(t, c, state(client.Open), nil)
	if _, err := c.Send(ctxT(t), "hi"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	f.stop()
}
