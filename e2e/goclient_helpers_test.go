package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goclient "github.com/chatroom/gochat/client"
	"github.com/coder/websocket"
)

// The Go client (package client) as the e2e tests drive it: every test that
// does what a real client does joins, talks and listens through it. The raw
// client of client_test.go remains for the wire itself.

// gclient is one Go client under test. Its events are read strictly in order
// by next and the helpers built on it: an unexpected event, a reconnect
// included, fails the test.
type gclient struct {
	*goclient.Client
	t    *testing.T
	user string
	// sock is the client's current socket, for drop.
	sock atomic.Pointer[websocket.Conn]
	// Users and History are the roster and the history of the first join,
	// set by goJoin.
	Users   []string
	History *goclient.History
}

// goOption adjusts a Go client's Options.
type goOption func(*goclient.Options)

// withSince makes the first join resume after id.
func withSince(id int64) goOption { return func(o *goclient.Options) { o.Since = id } }

// withBuffer sets the Events channel's capacity, for a test that reads a
// client's events only after sending many messages.
func withBuffer(n int) goOption { return func(o *goclient.Options) { o.EventBuffer = n } }

// withBackoff sets the first reconnect delay, for a test that drops the
// socket and waits for the resume.
func withBackoff(d time.Duration) goOption {
	return func(o *goclient.Options) { o.BackoffMin, o.BackoffMax = d, 4*d }
}

// ipDialer is a Dialer that gives every upgrade of one client the same
// address of its own (CF-Connecting-IP, as withIP does for the raw client),
// so that the per-address limits of the servers are not hit by accident, and
// keeps the socket it opened in sock when sock is not nil.
func ipDialer(sock *atomic.Pointer[websocket.Conn]) func(context.Context, string, *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	ip := withIP(nil).Get("CF-Connecting-IP")
	return func(ctx context.Context, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
		o := *opts
		o.HTTPHeader = opts.HTTPHeader.Clone()
		if o.HTTPHeader == nil {
			o.HTTPHeader = http.Header{}
		}
		o.HTTPHeader.Set("CF-Connecting-IP", ip)
		conn, res, err := websocket.Dial(ctx, url, &o)
		if err == nil && sock != nil {
			sock.Store(conn)
		}
		return conn, res, err
	}
}

// goConnect dials room on srv as user and reads nothing: the join's events
// are the test's to check.
func goConnect(t *testing.T, srv *server, room, user string, opts ...goOption) *gclient {
	t.Helper()
	g := &gclient{t: t, user: user}
	o := goclient.Options{URL: srv.HTTP, Room: room, UserID: user, Dialer: ipDialer(&g.sock)}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := goclient.Dial(ctx, o)
	if err != nil {
		t.Fatalf("%s: Dial %s: %v", user, room, err)
	}
	t.Cleanup(func() { c.Close() })
	g.Client = c
	return g
}

// goJoin dials room on srv as user and reads the join's events (welcome):
// the client is open, and its roster and history are in Users and History.
func goJoin(t *testing.T, srv *server, room, user string, opts ...goOption) *gclient {
	t.Helper()
	g := goConnect(t, srv, room, user, opts...)
	g.Users, g.History = g.welcome()
	return g
}

// next returns the client's next event, failing the test if none comes
// within waitTimeout or the client ended. Every message and history is
// checked on the way (see checkEvent).
func (g *gclient) next() goclient.Event {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	select {
	case ev, ok := <-g.Events():
		if !ok {
			g.t.Fatalf("%s: the client ended while waiting for an event: %v", g.user, g.Err())
		}
		g.checkEvent(ev)
		return ev
	case <-ctx.Done():
		g.t.Fatalf("%s: no event within %v", g.user, waitTimeout)
	}
	return nil
}

// nextOf returns g's next event, which must be a T.
func nextOf[T goclient.Event](g *gclient) T {
	g.t.Helper()
	ev := g.next()
	e, ok := ev.(T)
	if !ok {
		g.t.Fatalf("%s: got %s, want a %T", g.user, describe(ev), e)
	}
	return e
}

// status reads g's next event, which must be a Status of state s.
func (g *gclient) status(s goclient.State) *goclient.Status {
	g.t.Helper()
	st := nextOf[*goclient.Status](g)
	if st.State != s {
		g.t.Fatalf("%s: status %v (%v), want %v", g.user, st.State, st.Err, s)
	}
	return st
}

// expect checks g's next events against JSON templates, as the raw client's
// expect does, on the frames they came from (Raw): a Status, which comes from
// no frame, fails.
func (g *gclient) expect(templates ...string) {
	g.t.Helper()
	for _, tmpl := range templates {
		ev := g.next()
		raw := goclient.Raw(ev)
		if raw == nil {
			g.t.Fatalf("%s: got %s, want %s", g.user, describe(ev), tmpl)
		}
		if err := match(tmpl, string(raw)); err != nil {
			g.t.Fatalf("%s: got %s\n  want %s\n  %v", g.user, raw, tmpl, err)
		}
	}
}

// welcome checks the events of g's own join, as the raw client's welcome
// does, and the client's states around them: connecting, user_joined, the
// roster (sorted, with the joiner), the history, open, the read state.
func (g *gclient) welcome() ([]string, *goclient.History) {
	g.t.Helper()
	g.status(goclient.Connecting)
	g.expect(joinedT(g.user))
	p := nextOf[*goclient.Presence](g)
	if p.Truncated || !sort.StringsAreSorted(p.Users) || !slices.Contains(p.Users, g.user) {
		g.t.Fatalf("%s: got %s, want a sorted presence roster including %s", g.user, p.Raw, g.user)
	}
	h := nextOf[*goclient.History](g)
	g.status(goclient.Open)
	g.readState()
	return p.Users, h
}

// readState reads g's next event, which must be the room's read state (it
// follows every join's history).
func (g *gclient) readState() *goclient.ReadState {
	g.t.Helper()
	st := nextOf[*goclient.ReadState](g)
	if st.LastRead < 0 || st.Unread < 0 {
		g.t.Fatalf("%s: read state %s", g.user, st.Raw)
	}
	return st
}

// nextMessage returns g's next event, which must be a message.
func (g *gclient) nextMessage() wireMsg {
	g.t.Helper()
	return wireOf(*nextOf[*goclient.Message](g))
}

// send sends text and returns the stored message once the room echoed it.
// The echo is also g's event: read it (say does), or drain the events.
func (g *gclient) send(text string) goclient.Message {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	m, err := g.Send(ctx, text)
	if err != nil {
		g.t.Fatalf("%s: Send %q: %v", g.user, text, err)
	}
	return m
}

// say sends text and reads its echo, which must be g's next event and the
// message Send returned.
func (g *gclient) say(text string) wireMsg {
	g.t.Helper()
	m := wireOf(g.send(text))
	if echo := g.nextMessage(); echo != m || echo.UserID != g.user || echo.Text != text {
		g.t.Fatalf("%s: echo %+v, want %+v", g.user, echo, m)
	}
	return m
}

var quietSentinels atomic.Int64

// quietGo checks that nothing more arrived for any of cs: from sends a
// message through the room, which orders it after every earlier event, and
// it must be the next event of each of cs (include from to check it too).
// It is the raw client's quiet for the Go client, whose pongs are not events:
// a barrier that costs one message in the room.
func quietGo(from *gclient, cs ...*gclient) {
	from.t.Helper()
	text := fmt.Sprintf("quiet %d", quietSentinels.Add(1))
	from.send(text)
	for _, c := range cs {
		c.expect(msgT(from.user, text))
	}
}

// drop ends g's socket without a close frame, like a lost network: the
// client reconnects and resumes.
func (g *gclient) drop() { g.sock.Load().CloseNow() }

// vanish drops g's socket and ends the client before it can reconnect (its
// first reconnect waits at least a quarter second by default): the room sees
// the connection lost, not closed.
func (g *gclient) vanish() {
	g.drop()
	g.Close()
}

// leave ends the client with a close handshake (1000).
func (g *gclient) leave() { g.Close() }

// drainEvents reads g's events in the background from now on, for a client
// that only sends.
func (g *gclient) drainEvents() {
	go func() {
		for range g.Events() {
		}
	}()
}

// checkEvent checks what the raw client's nextMessage and historyOf check, on
// the frame each event came from: a message has a positive id and a wire
// timestamp; a history's frame has a messages array whose entries are well
// formed, and the client delivered exactly those, leaving none out as a
// duplicate. The client drops what it already saw, which would hide a room
// that sends a message twice.
func (g *gclient) checkEvent(ev goclient.Event) {
	g.t.Helper()
	switch ev := ev.(type) {
	case *goclient.Message:
		var m wireMsg
		if err := json.Unmarshal(ev.Raw, &m); err != nil || m.Type != "message" || m.ID < 1 || !timestampRE.MatchString(m.Timestamp) || wireOf(*ev) != m {
			g.t.Fatalf("%s: got %s, want a message frame", g.user, ev.Raw)
		}
	case *goclient.History:
		var h struct {
			Type     string
			Messages *[]wireMsg
		}
		if err := json.Unmarshal(ev.Raw, &h); err != nil || h.Type != "history" || h.Messages == nil {
			g.t.Fatalf("%s: got %s, want the history frame", g.user, ev.Raw)
		}
		for _, m := range *h.Messages {
			if m.ID < 1 || m.UserID == "" || !timestampRE.MatchString(m.Timestamp) {
				g.t.Fatalf("%s: bad history entry %+v", g.user, m)
			}
		}
		if got := historyWire(ev); !same(got, *h.Messages) {
			g.t.Fatalf("%s: the client delivered %+v of the history %s", g.user, got, ev.Raw)
		}
	}
}

// wireOf is m as the frames carry it.
func wireOf(m goclient.Message) wireMsg {
	return wireMsg{Type: "message", ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp}
}

// historyWire is h's messages as the frames carry them (with type
// "message", which history entries lack: same does not compare it).
func historyWire(h *goclient.History) []wireMsg {
	out := []wireMsg{}
	for _, m := range h.Messages {
		out = append(out, wireOf(m))
	}
	return out
}

func describe(ev goclient.Event) string {
	if raw := goclient.Raw(ev); raw != nil {
		return string(raw)
	}
	if st, ok := ev.(*goclient.Status); ok {
		return fmt.Sprintf("status %v (%v)", st.State, st.Err)
	}
	return fmt.Sprintf("%T %+v", ev, ev)
}

// recorder reads a Go client's events in the background, so that its sends
// get their echoes, and lets a test wait on what arrived.
type recorder struct {
	mu      sync.Mutex
	events  []goclient.Event
	changed chan struct{}
}

func record(c *goclient.Client) *recorder {
	r := &recorder{changed: make(chan struct{})}
	go func() {
		for ev := range c.Events() {
			r.mu.Lock()
			r.events = append(r.events, ev)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

// waitFor waits until cond holds over the events so far.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]goclient.Event) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	for {
		r.mu.Lock()
		ok, ch := cond(r.events), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; events: %s", what, r.summary())
		}
	}
}

func (r *recorder) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, ev := range r.events {
		fmt.Fprintf(&b, "\n  %T %+v", ev, ev)
	}
	return b.String()
}

// texts lists the message texts delivered, across histories and live
// messages, in order.
func texts(events []goclient.Event) []string {
	var out []string
	for _, ev := range events {
		switch ev := ev.(type) {
		case *goclient.Message:
			out = append(out, ev.Text)
		case *goclient.History:
			for _, m := range ev.Messages {
				out = append(out, m.Text)
			}
		}
	}
	return out
}

func statuses(events []goclient.Event, s goclient.State) int {
	n := 0
	for _, ev := range events {
		if st, ok := ev.(*goclient.Status); ok && st.State == s {
			n++
		}
	}
	return n
}

// goDial dials with opts (from an address of its own unless opts has a
// Dialer), records the events and waits for the client to open.
func goDial(t *testing.T, opts goclient.Options) (*goclient.Client, *recorder) {
	t.Helper()
	if opts.Dialer == nil {
		opts.Dialer = ipDialer(nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := goclient.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("%s: Dial: %v", opts.UserID, err)
	}
	t.Cleanup(func() { c.Close() })
	r := record(c)
	r.waitFor(t, opts.UserID+" open", func(evs []goclient.Event) bool { return statuses(evs, goclient.Open) == 1 })
	return c, r
}

func goSend(t *testing.T, c *goclient.Client, text string) goclient.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	m, err := c.Send(ctx, text)
	if err != nil {
		t.Fatalf("Send %q: %v", text, err)
	}
	return m
}

// waitQueuedGo waits until c holds n sends for the connection.
func waitQueuedGo(t *testing.T, c *goclient.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for c.Queued() != n {
		if time.Now().After(deadline) {
			t.Fatalf("queued %d, want %d", c.Queued(), n)
		}
		<-tick.C
	}
}
