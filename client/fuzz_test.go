package client_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
	"github.com/mailru/easyjson/jlexer"
)

// FuzzHandle feeds arbitrary frames to a real client, as a room could send
// them, and checks what its user would notice. The client runs all of its
// own code (dial, read loop, handle, reconnects, Close) over an in-memory
// socket (pipeRoom): no network, no sleeps.
//
// The input is a script, one step a line. A line is a text frame that the
// room sends on the current socket, unless it is a command:
//
//	!drop                 the room cuts the socket; the client reconnects
//	!close CODE REASON    the room closes it with CODE (4003 kicked ends the client)
//	!binary DATA          a binary frame
//	!send TEXT            Send, Edit, Delete, React, Moderate, SlowMode,
//	!edit ID TEXT         MarkRead and Typing, each called once the client
//	!delete ID            has handled every frame before it; the calls that
//	!react ID EMOJI       wait for the room's answer run in the background
//	!mod ACTION USER [SECONDS [REASON]]
//	!slow SECONDS
//	!read ID
//	!typing
//	!cancel               cancels the latest call still waiting
//
// After every frame the harness pings the socket: the pong comes back once
// the client has handled the frame (its read loop answers pings between
// frames), so each frame's events, and LastID, are checked against that
// frame alone. It checks that
//
//   - nothing panics, deadlocks or hangs (every wait has waitTimeout), and no
//     goroutine of the client outlives Close;
//   - every event is well formed and agrees with the frame it came from
//     (Raw is that frame; ids, users, texts, times and codes are the frame's;
//     a Message, an edit, a deletion, a reaction or a moderation event has a
//     positive position, and an edit, deletion or reaction a positive
//     MessageID; RetryAfter is never negative);
//   - positions are delivered once: a live one above LastID, a History's
//     above the resume point and not twice, and LastID is the highest
//     position delivered: it moves with a positioned event and with nothing
//     else, and only drops to 0 when the room, during a join, forgets the
//     resume point (invalid_since), after which the History says Reset;
//   - the statuses go Connecting, (History, its changes, Open), then
//     Reconnecting or Closed, and Closed comes last, with the fatal error
//     that Err then returns;
//   - every join carries the room's resume point, LastID;
//   - every call returns, with an answer that fits what was asked (a Send's
//     message has the text sent and a positive id, an Edit's answer is an
//     edit of that message with that text, ...) or an error it may return.
func FuzzHandle(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.since, s.anonymous, []byte(s.script))
	}
	f.Fuzz(func(t *testing.T, since uint8, anonymous bool, script []byte) {
		runScript(t, int64(since), anonymous, script)
	})
}

// TestMalformedFrames holds the bugs that FuzzHandle caught, each a frame no
// room sends, that the client used to act on: through runScript, whose
// checks failed on each.
func TestMalformedFrames(t *testing.T) {
	const join = `{"type":"user_joined","userId":"alice","timestamp":"2026-01-02T03:04:05.000Z"}
{"type":"history","messages":[{"id":1,"userId":"bob","text":"a","timestamp":"2026-01-02T03:04:05.000Z"},{"id":3,"userId":"bob","text":"b","timestamp":"2026-01-02T03:04:05.000Z"}]}
`
	for _, tc := range []struct{ name, script string }{
		// A change's messageId that is not a positive id was delivered
		// (a Reaction on message -3).
		{"reaction on message -3", join + `{"type":"reaction","id":11,"messageId":-3,"emoji":"👍","userId":"bob","added":true}`},
		{"edit of message -3", join + `{"type":"message_edited","id":11,"messageId":-3,"userId":"bob","text":"x"}`},
		{"deletion of message 0", join + `{"type":"message_deleted","id":11,"messageId":0,"by":"bob"}`},
		{"such a change in a resume", `{"type":"history","messages":[],"changes":[{"type":"reaction","id":11,"messageId":-3,"emoji":"👍","userId":"bob","added":true}]}`},
		// A retryAfterMs out of a Duration's range wrapped around; a
		// negative one gave a negative RetryAfter.
		{"retryAfterMs overflows", join + `{"type":"error","code":"rate_limited","message":"x","retryAfterMs":9223372036854775807}`},
		{"retryAfterMs negative", join + `{"type":"error","code":"rate_limited","message":"x","retryAfterMs":-250}`},
		// An echo without a position answered the request: Send, Edit,
		// Delete and React returned an id of 0 or below.
		{"message echo with id 0", join + "!send hi\n" + `{"type":"message","id":0,"userId":"alice","text":"hi"}`},
		{"message echo with id -4", join + "!send hi\n" + `{"type":"message","id":-4,"userId":"alice","text":"hi"}`},
		{"edit echo with id 0", join + "!edit 3 new\n" + `{"type":"message_edited","id":0,"messageId":3,"userId":"alice","text":"new"}`},
		{"deletion echo with id -5", join + "!delete 3\n" + `{"type":"message_deleted","id":-5,"messageId":3,"by":"alice"}`},
		{"reaction echo with id -10", join + "!react 3 👍\n" + `{"type":"reaction","id":-10,"messageId":3,"emoji":"👍","userId":"alice","added":true}`},
		{"rejoin's message with id -3 confirms a send", `{"type":"history","messages":[]}` + "\n!send lost\n!drop\n" +
			`{"type":"history","messages":[{"id":-3,"userId":"alice","text":"lost"}]}`},
		// A history that repeats a position delivered it twice.
		{"history repeats a message", `{"type":"history","messages":[{"id":5,"userId":"a","text":"x"},{"id":5,"userId":"b","text":"y"}]}`},
		{"history change at a message's position", `{"type":"history","messages":[{"id":4,"userId":"a","text":"x"}],"changes":[{"type":"reaction","id":4,"messageId":1,"emoji":"x","userId":"bob","added":true}]}`},
		{"history repeats a change", `{"type":"history","changes":[{"type":"reaction","id":9,"messageId":1,"emoji":"x","userId":"bob","added":true},{"type":"reaction","id":9,"messageId":1,"emoji":"x","userId":"bob","added":false}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runScript(t, 0, false, []byte(tc.script+"\n"))
		})
	}
}

// maxSteps bounds one input's steps, so that an execution stays short.
const maxSteps = 64

// pipeRoom is the room's side of a fuzzed client: each dial is a fresh
// net.Pipe, upgraded on both ends by coder/websocket.
type pipeRoom struct {
	accepted chan *pipeConn
	http     *http.Client
}

func newPipeRoom() *pipeRoom {
	r := &pipeRoom{accepted: make(chan *pipeConn, 4)}
	r.http = &http.Client{Transport: r}
	return r
}

// dial is the client's Options.Dialer.
func (r *pipeRoom) dial(ctx context.Context, u string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	o := *opts
	o.HTTPClient = r.http
	return websocket.Dial(ctx, u, &o)
}

// RoundTrip answers the upgrade request with the client's end of a pipe
// whose other end is accepted as the room's socket.
func (r *pipeRoom) RoundTrip(req *http.Request) (*http.Response, error) {
	clientEnd, roomEnd := net.Pipe()
	w := &hijackWriter{header: http.Header{}, conn: roomEnd}
	ws, err := websocket.Accept(w, req, nil)
	if err != nil {
		clientEnd.Close()
		roomEnd.Close()
		return nil, err
	}
	pc := &pipeConn{ws: ws, changed: make(chan struct{}), done: make(chan struct{})}
	go pc.read()
	select {
	case r.accepted <- pc:
	case <-req.Context().Done():
		ws.CloseNow()
		clientEnd.Close()
		<-pc.done
		return nil, req.Context().Err()
	}
	return &http.Response{Status: "101 Switching Protocols", StatusCode: w.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, Body: clientEnd, Request: req}, nil
}

// hijackWriter is the ResponseWriter that websocket.Accept upgrades.
type hijackWriter struct {
	header http.Header
	status int
	conn   net.Conn
}

func (w *hijackWriter) Header() http.Header         { return w.header }
func (w *hijackWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *hijackWriter) WriteHeader(status int)      { w.status = status }
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// pipeConn is one socket on the room's side. Its reader records what the
// client sends, and answers the harness's pings and the closes.
type pipeConn struct {
	ws      *websocket.Conn
	mu      sync.Mutex
	got     [][]byte
	changed chan struct{} // closed and replaced on every frame received
	done    chan struct{} // closed when the reader ends
}

func (pc *pipeConn) read() {
	defer close(pc.done)
	defer pc.ws.CloseNow()
	for {
		_, data, err := pc.ws.Read(context.Background())
		if err != nil {
			return
		}
		pc.mu.Lock()
		pc.got = append(pc.got, data)
		close(pc.changed)
		pc.changed = make(chan struct{})
		pc.mu.Unlock()
	}
}

// received returns the frames received from i on, and a channel closed
// when another arrives.
func (pc *pipeConn) received(i int) ([][]byte, chan struct{}) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.got[min(i, len(pc.got)):], pc.changed
}

func (pc *pipeConn) count() int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.got)
}

// fuzzRun is one execution: the client, the room's current socket, the
// consumer of the events, and the model of what the client must show.
type fuzzRun struct {
	t      *testing.T
	ctx    context.Context // the execution's deadline
	c      *client.Client
	opts   client.Options
	room   *pipeRoom
	conn   *pipeConn   // the current socket; nil once the client ended
	conns  []*pipeConn // every socket
	script []byte

	flushReq chan chan []client.Event
	final    chan []client.Event // the events left when Events closed
	ended    bool                // Events is closed

	// The model.
	state    client.State // the last status (0 before the first)
	lastID   int64        // what LastID must be
	resetDue bool         // the room forgot the resume point: the next History says Reset
	expect   []client.Event
	closedSt *client.Status // the Closed status, once seen

	// The calls waiting in the background.
	calls   sync.WaitGroup
	cancels []context.CancelFunc
	callEnd []chan struct{}
	endErrs chan error // errors that calls returned that only the client's end explains
}

func runScript(t *testing.T, since int64, anonymous bool, script []byte) {
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	r := &fuzzRun{t: t, ctx: ctx, room: newPipeRoom(), script: script, lastID: since,
		flushReq: make(chan chan []client.Event), final: make(chan []client.Event, 1), endErrs: make(chan error, maxSteps)}
	r.opts = client.Options{URL: "http://room.test", Room: "fuzz", UserID: "alice", Since: since,
		Dialer: r.room.dial, HTTPClient: r.room.http,
		EventBuffer: 1, QueueSize: 3, // the consumer's back-pressure, and a full queue, are exercised too
		PingInterval: time.Hour, JoinTimeout: time.Hour, BackoffMin: time.Nanosecond, BackoffMax: time.Nanosecond}
	if anonymous {
		r.opts.UserID, r.opts.Token = "", "token"
	}
	c, err := client.New(r.opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.c = c
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	go r.consume()
	r.nextConn()

	lines := bytes.Split(script, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		if i == maxSteps {
			break
		}
		r.step(line)
	}
	r.finish()

	// Nothing of the client's may outlive Close (goroutines that are just
	// returning are given their moment).
	deadline := time.Now().Add(waitTimeout)
	for i := 0; runtime.NumGoroutine() > base; i++ {
		if i < 1000 {
			runtime.Gosched()
			continue
		}
		left := clientGoroutines(c)
		if left == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of the client outlived Close:\n%s", left)
		}
		runtime.Gosched()
	}
}

// clientGoroutines returns the stacks of the goroutines running c's
// methods (a stack shows the receiver's address), not another test's
// client's.
func clientGoroutines(c *client.Client) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	self := fmt.Sprintf("(%p", c)
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n")[1:] { // the first is this one
		if strings.Contains(g, "gochat/client.(*Client).") && strings.Contains(g, self) {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// consume takes every event as soon as it comes, and hands them over on
// flush.
func (r *fuzzRun) consume() {
	events := r.c.Events()
	var batch []client.Event
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				r.final <- batch
				return
			}
			batch = append(batch, ev)
		case reply := <-r.flushReq:
			for len(events) > 0 {
				ev, ok := <-events
				if !ok {
					break
				}
				batch = append(batch, ev)
			}
			reply <- batch
			batch = nil
		}
	}
}

// flush checks the events delivered so far: all of those that the frames
// handled so far produced.
func (r *fuzzRun) flush(frame []byte, invalidSince bool) {
	if r.ended {
		return
	}
	reply := make(chan []client.Event, 1)
	var evs []client.Event
	select {
	case r.flushReq <- reply:
		evs = <-reply
	case evs = <-r.final:
		r.ended = true
	}
	r.check(evs, frame, invalidSince)
}

func (r *fuzzRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("script %q:\n"+format, append([]any{r.script}, args...)...)
}

func (r *fuzzRun) errorf(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("script %q:\n"+format, append([]any{r.script}, args...)...)
}

// nextConn waits until the client has a new socket, and has sent its join
// on it, or has ended.
func (r *fuzzRun) nextConn() {
	r.conn = nil
	if r.ended {
		return
	}
	select {
	case pc := <-r.room.accepted:
		r.conn = pc
		r.conns = append(r.conns, pc)
	case evs := <-r.final:
		r.ended = true
		r.check(evs, nil, false)
		return
	case <-r.ctx.Done():
		r.fatalf("the client neither reconnected nor ended")
	}
	// A room answers nothing before the join.
	for {
		got, changed := r.conn.received(0)
		if len(got) > 0 {
			r.checkJoin(got[0])
			return
		}
		select {
		case <-changed:
		case <-r.conn.done:
			// Cut before it joined: the client must go on to the next.
			r.nextConn()
			return
		case <-r.ctx.Done():
			r.fatalf("the client sent no join")
		}
	}
}

// checkJoin checks a join frame: the user, and LastID as the resume point.
func (r *fuzzRun) checkJoin(data []byte) {
	var j protocol.JoinRequest
	if err := protocol.Unmarshal(data, &j); err != nil || j.Type != protocol.TypeJoin {
		r.fatalf("the client's first frame is %q, not a join", data)
	}
	if j.UserID != r.opts.UserID {
		r.errorf("join %s: userId, want %q", data, r.opts.UserID)
	}
	since := int64(0)
	if j.Since != nil {
		since = *j.Since
		if since <= 0 {
			r.errorf("join %s: since %d", data, since)
		}
	}
	if since != r.lastID {
		r.errorf("join %s: since %d, want the LastID %d", data, since, r.lastID)
	}
}

// step runs one line of the script.
func (r *fuzzRun) step(line []byte) {
	cmd, arg, _ := strings.Cut(string(line), " ")
	switch cmd {
	case "!drop", "!close":
		if r.conn == nil {
			return
		}
		if cmd == "!drop" {
			r.conn.ws.CloseNow()
		} else {
			code, reason, _ := strings.Cut(arg, " ")
			n, _ := strconv.Atoi(code)
			r.conn.ws.Close(websocket.StatusCode(n), reason)
		}
		r.nextConn()
		r.flush(nil, false)
	case "!binary":
		r.frame(websocket.MessageBinary, []byte(arg))
	case "!send", "!edit", "!delete", "!react", "!mod", "!slow":
		r.call(cmd, arg)
	case "!read":
		id, _ := strconv.ParseInt(arg, 10, 64)
		last := r.c.LastID()
		err := r.c.MarkRead(r.ctx, id)
		var re *client.RoomError
		switch {
		case r.ended || r.conn == nil:
			if err == nil || !r.endError(err) {
				r.errorf("MarkRead(%d) after the end: %v", id, err)
			}
		case id < 1 || id > last:
			if !errors.As(err, &re) || re.Code != protocol.CodeInvalidID || re.Request != protocol.TypeRead || re.MessageID != id {
				r.errorf("MarkRead(%d) with LastID %d: %v, want invalid_id", id, last, err)
			}
		case err != nil:
			r.errorf("MarkRead(%d) with LastID %d: %v", id, last, err)
		}
	case "!typing":
		err := r.c.Typing(r.ctx)
		switch {
		case r.ended || r.conn == nil:
			if err == nil || !r.endError(err) {
				r.errorf("Typing after the end: %v", err)
			}
		case r.state == client.Open && err != nil:
			r.errorf("Typing while open: %v", err)
		case r.state != client.Open && !errors.Is(err, client.ErrNotConnected):
			r.errorf("Typing while not joined: %v, want ErrNotConnected", err)
		}
	case "!cancel":
		for i := len(r.cancels) - 1; i >= 0; i-- {
			select {
			case <-r.callEnd[i]:
				continue
			default:
			}
			r.cancels[i]()
			select {
			case <-r.callEnd[i]:
			case <-r.ctx.Done():
				r.fatalf("a call did not return when its context was cancelled")
			}
			return
		}
	default:
		r.frame(websocket.MessageText, line)
	}
}

// endError says whether err is what a call returns once the client has
// ended: ErrClosed, or the fatal error that ended it.
func (r *fuzzRun) endError(err error) bool {
	if errors.Is(err, client.ErrClosed) {
		return true
	}
	var re *client.RoomError
	if errors.As(err, &re) && re.Request == "" {
		r.endErrs <- err // checked against Err at the end
		return true
	}
	return false
}

// frame sends one frame, waits until the client has handled it, and checks
// what it did.
func (r *fuzzRun) frame(typ websocket.MessageType, data []byte) {
	if r.conn == nil {
		return
	}
	// What the client must do with an invalid_since: during a join, start
	// over (LastID 0, a join without since); once joined, it is an error
	// like any other.
	var head protocol.ModerationError
	invalidSince := typ == websocket.MessageText && protocol.Unmarshal(data, &head) == nil &&
		head.Type == protocol.TypeError && head.Code == protocol.CodeInvalidSince
	joins := r.conn.count()
	err := r.conn.ws.Write(r.ctx, typ, data)
	if err == nil {
		err = r.conn.ws.Ping(r.ctx)
	}
	if r.ctx.Err() != nil {
		r.fatalf("the client hung on frame %q", data)
	}
	r.flush(data, invalidSince)
	if len(r.expect) > 0 {
		r.fatalf("after the History %q: %d of its changes and Open not delivered", data, len(r.expect))
	}
	if err != nil {
		// The client dropped the socket (or ended) because of the frame.
		r.nextConn()
		r.flush(nil, false)
		return
	}
	if invalidSince && !r.ended && r.conn != nil {
		got, _ := r.conn.received(joins)
		j := -1
		for i, g := range got {
			var head protocol.Pong
			if protocol.Unmarshal(g, &head) == nil && head.Type == protocol.TypeJoin {
				j = i
			}
		}
		switch {
		case r.state == client.Open && j >= 0:
			r.errorf("invalid_since once joined: the client joined again")
		case r.state != client.Open && j < 0:
			r.errorf("invalid_since during the join: the client did not join again")
		case j >= 0:
			r.checkJoin(got[j])
		}
	}
	if got := r.c.LastID(); got != r.lastID && !r.ended {
		r.errorf("after frame %q: LastID %d, want %d (the highest position delivered)", data, got, r.lastID)
		r.lastID = got
	}
}

// check checks the events delivered since the last check. frame is the
// frame just handled (nil: none), whose events they are, besides the
// statuses that a reconnect delivers on its own.
func (r *fuzzRun) check(evs []client.Event, frame []byte, invalidSince bool) {
	for _, ev := range evs {
		if r.closedSt != nil {
			r.errorf("%T after the Closed status", ev)
		}
		if len(r.expect) > 0 {
			// A History's changes, then Open.
			want := r.expect[0]
			r.expect = r.expect[1:]
			if _, ok := want.(*client.Status); ok {
				if got, ok := ev.(*client.Status); !ok || got.State != client.Open {
					r.fatalf("after a History's changes: %T %+v, want the Open status", ev, ev)
				}
				r.state = client.Open
			} else if ev != want {
				r.fatalf("after a History: %T %+v, want its change %+v", ev, ev, want)
			} else {
				r.position(client.Position(ev))
			}
			continue
		}
		switch ev := ev.(type) {
		case *client.Status:
			r.status(ev)
			continue
		case *client.History:
			r.history(ev, frame)
			continue
		}
		if frame == nil {
			r.fatalf("%T %+v without a frame", ev, ev)
		}
		if raw := client.Raw(ev); !bytes.Equal(raw, frame) {
			r.errorf("%T: Raw %q, want the frame %q", ev, raw, frame)
		}
		checkEvent(r, ev, frame)
		if pos := client.Position(ev); pos != 0 {
			if pos <= r.lastID {
				r.errorf("%T at position %d, not above LastID %d: delivered twice or out of order", ev, pos, r.lastID)
			}
			r.position(pos)
		} else if _, ok := ev.(*client.Message); ok {
			r.errorf("a Message at position 0")
		}
	}
	if invalidSince && r.state != client.Open && !r.ended {
		r.lastID, r.resetDue = 0, true
	}
}

func (r *fuzzRun) position(pos int64) {
	if pos <= 0 {
		r.errorf("an event at position %d", pos)
	}
	r.lastID = max(r.lastID, pos)
}

// status checks the order of the statuses.
func (r *fuzzRun) status(st *client.Status) {
	switch st.State {
	case client.Connecting:
		if r.state != 0 && r.state != client.Reconnecting {
			r.errorf("Connecting after %v", r.state)
		}
	case client.Open:
		r.errorf("Open without a History")
	case client.Reconnecting:
		if r.state == 0 || r.state == client.Closed {
			r.errorf("Reconnecting after %v", r.state)
		}
		if st.Err == nil || st.Attempt < 1 || st.Delay < 0 || st.Delay > r.opts.BackoffMax {
			r.errorf("Reconnecting: %+v", st)
		}
	case client.Closed:
		r.closedSt = st
	default:
		r.errorf("status %v", st.State)
	}
	r.state = st.State
}

// history checks a History against its frame, and expects its changes and
// Open next.
func (r *fuzzRun) history(h *client.History, frame []byte) {
	if r.state != client.Connecting {
		r.errorf("a History while %v", r.state)
	}
	if !bytes.Equal(h.Raw, frame) {
		r.fatalf("History: Raw %q, want the frame %q", h.Raw, frame)
	}
	var f protocol.History
	if err := protocol.Unmarshal(frame, &f); err != nil || f.Type != protocol.TypeHistory {
		r.fatalf("a History from frame %q (%v)", frame, err)
	}
	if h.Truncated != f.Truncated {
		r.errorf("History: Truncated %v, frame %v", h.Truncated, f.Truncated)
	}
	if h.Reset != r.resetDue {
		r.errorf("History: Reset %v, want %v", h.Reset, r.resetDue)
	}
	r.resetDue = false
	// Resumed says the join carried since.
	got, _ := r.conn.received(0)
	var j protocol.JoinRequest
	for _, g := range got {
		var head protocol.Pong
		if protocol.Unmarshal(g, &head) == nil && head.Type == protocol.TypeJoin {
			j = protocol.JoinRequest{}
			protocol.Unmarshal(g, &j)
		}
	}
	if h.Resumed != (j.Since != nil) {
		r.errorf("History: Resumed %v after the join %+v", h.Resumed, j)
	}
	since := r.lastID
	seen := map[int64]bool{}
	var want []protocol.StoredMessage // after since, each position once
	for _, m := range f.Messages {
		if m.ID > since && !slices.ContainsFunc(want, func(w protocol.StoredMessage) bool { return w.ID == m.ID }) {
			want = append(want, m)
		}
	}
	if len(h.Messages) != len(want) {
		r.errorf("History: %d messages, want the frame's %d after %d", len(h.Messages), len(want), since)
	} else {
		for i, m := range h.Messages {
			w := want[i]
			if m.ID != w.ID || m.UserID != w.UserID || m.Text != w.Text || m.Timestamp != w.Timestamp ||
				!m.Time.Equal(wireTime(w.Timestamp)) || !m.EditedAt.Equal(wireTime(w.EditedAt)) || m.Raw != nil ||
				!reflect.DeepEqual(m.Reactions, nilIfEmpty(w.Reactions)) {
				r.errorf("History message %d: %+v, frame %+v", i, m, w)
			}
		}
	}
	for _, m := range h.Messages {
		if m.ID <= since || seen[m.ID] {
			r.errorf("History: message at position %d, resume point %d, seen %v: delivered twice", m.ID, since, seen[m.ID])
		}
		seen[m.ID] = true
		r.position(m.ID)
	}
	j2 := 0
	for _, ch := range h.Changes {
		raw := client.Raw(ch)
		for j2 < len(f.Changes) && !bytes.Equal(f.Changes[j2], raw) {
			j2++
		}
		if j2 == len(f.Changes) {
			r.errorf("History change %T %+v: Raw %q is not one of the frame's changes, in order", ch, ch, raw)
			break
		}
		j2++
		checkEvent(r, ch, raw)
		pos := client.Position(ch)
		if pos <= since || seen[pos] {
			r.errorf("History: change %T at position %d, resume point %d, seen %v: delivered twice", ch, pos, since, seen[pos])
		}
		seen[pos] = true
		r.expect = append(r.expect, ch)
	}
	r.expect = append(r.expect, &client.Status{State: client.Open})
}

func nilIfEmpty(s []protocol.ReactionSummary) []protocol.ReactionSummary {
	if len(s) == 0 {
		return nil
	}
	return s
}

// wireTime parses a wire timestamp, or is zero.
func wireTime(s string) time.Time {
	t, _ := time.Parse(protocol.TimeLayout, s)
	return t
}

func untilTime(u *protocol.Until) time.Time {
	if u == nil {
		return time.Time{}
	}
	return wireTime(u.At)
}

// retryAfter is an error frame's retryAfterMs as a duration: never
// negative, and the longest duration for one too long for it.
func retryAfter(ms int64) time.Duration {
	switch {
	case ms <= 0:
		return 0
	case ms > math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// checkEvent checks an event that came from one frame against that frame.
func checkEvent(r *fuzzRun, ev client.Event, raw []byte) {
	var head protocol.Pong
	if err := protocol.Unmarshal(raw, &head); err != nil {
		r.errorf("%T from a frame that is not one: %q", ev, raw)
		return
	}
	bad := func(frame any) { r.errorf("%T %+v from the frame %q (%+v)", ev, ev, raw, frame) }
	decode := func(typ string, v interface {
		UnmarshalEasyJSON(*jlexer.Lexer)
	}) bool {
		if head.Type != typ || protocol.Unmarshal(raw, v) != nil {
			r.errorf("%T from a frame of type %q: %q", ev, head.Type, raw)
			return false
		}
		return true
	}
	switch ev := ev.(type) {
	case *client.Message:
		var f protocol.ChatMessage
		if decode(protocol.TypeMessage, &f) && (ev.ID != f.ID || ev.ID <= 0 || ev.UserID != f.UserID || ev.Text != f.Text ||
			ev.Timestamp != f.Timestamp || !ev.Time.Equal(wireTime(f.Timestamp)) || !ev.EditedAt.IsZero() || ev.Reactions != nil) {
			bad(f)
		}
	case *client.UserJoined:
		var f protocol.UserJoined
		if decode(protocol.TypeUserJoined, &f) && (ev.UserID != f.UserID || !ev.Time.Equal(wireTime(f.Timestamp))) {
			bad(f)
		}
	case *client.UserLeft:
		var f protocol.UserLeft
		if decode(protocol.TypeUserLeft, &f) && (ev.UserID != f.UserID || !ev.Time.Equal(wireTime(f.Timestamp))) {
			bad(f)
		}
	case *client.Presence:
		var f protocol.PresenceSummary
		if decode(protocol.TypePresence, &f) {
			count := len(f.Users)
			if f.Truncated {
				count = f.Count
			}
			if !reflect.DeepEqual(ev.Users, f.Users) || ev.Truncated != f.Truncated || ev.Count != count {
				bad(f)
			}
		}
	case *client.RoomSettings:
		var f protocol.RoomSettings
		if decode(protocol.TypeRoomSettings, &f) && ev.SlowModeSeconds != f.SlowModeSeconds {
			bad(f)
		}
	case *client.Typing:
		var f protocol.Typing
		if decode(protocol.TypeTyping, &f) && ev.UserID != f.UserID {
			bad(f)
		}
	case *client.Read:
		var f protocol.ReadMarker
		if decode(protocol.TypeRead, &f) && (ev.UserID != f.UserID || ev.ID != f.ID) {
			bad(f)
		}
	case *client.ReadState:
		var f protocol.ReadState
		if decode(protocol.TypeReadState, &f) && (ev.LastRead != f.LastRead || ev.Unread != f.Unread || ev.Capped != f.Capped) {
			bad(f)
		}
	case *client.Error:
		var f protocol.ModerationError
		if decode(protocol.TypeError, &f) {
			re := ev.Err
			if re == nil || re.Code != f.Code || re.Message != f.Message || re.RetryAfter != retryAfter(f.RetryAfterMs) ||
				!re.Until.Equal(untilTime(f.Until)) {
				bad(f)
			}
		}
	case *client.MessageEdited:
		var f protocol.MessageEdited
		if decode(protocol.TypeMessageEdited, &f) && (ev.ID != f.ID || ev.ID <= 0 || ev.MessageID != f.MessageID || ev.MessageID <= 0 ||
			ev.UserID != f.UserID || ev.Text != f.Text || !ev.EditedAt.Equal(wireTime(f.EditedAt))) {
			bad(f)
		}
	case *client.MessageDeleted:
		var f protocol.MessageDeleted
		if decode(protocol.TypeMessageDeleted, &f) && (ev.ID != f.ID || ev.ID <= 0 || ev.MessageID != f.MessageID || ev.MessageID <= 0 ||
			ev.By != f.By || !ev.Time.Equal(wireTime(f.Timestamp))) {
			bad(f)
		}
	case *client.Reaction:
		var f protocol.Reaction
		if decode(protocol.TypeReaction, &f) && (ev.ID != f.ID || ev.ID <= 0 || ev.MessageID != f.MessageID || ev.MessageID <= 0 ||
			ev.UserID != f.UserID || ev.Emoji != f.Emoji || ev.Added != f.Added) {
			bad(f)
		}
	case *client.Moderated:
		var f protocol.Moderation
		if decode(head.Type, &f) {
			kind := map[string]client.Action{protocol.TypeUserKicked: client.Kick, protocol.TypeUserBanned: client.Ban,
				protocol.TypeUserUnbanned: client.Unban, protocol.TypeUserMuted: client.Mute, protocol.TypeUserUnmuted: client.Unmute}[f.Type]
			reason := ""
			if f.Reason != nil {
				reason = *f.Reason
			}
			if kind == "" || ev.Kind != kind || ev.ID != f.ID || ev.ID <= 0 || ev.UserID != f.UserID || ev.By != f.By ||
				ev.Reason != reason || !ev.Until.Equal(untilTime(f.Until)) || !ev.Time.Equal(wireTime(f.Timestamp)) {
				bad(f)
			}
		}
	default:
		r.errorf("unexpected event %T %+v from the frame %q", ev, ev, raw)
	}
}

// call starts a call that waits for the room's answer, and returns once
// the client has taken it: written it on the socket, queued it, or
// answered it at once.
func (r *fuzzRun) call(cmd, arg string) {
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	r.cancels = append(r.cancels, cancel)
	r.callEnd = append(r.callEnd, done)
	var do func() (client.Event, client.Message, error)
	var check func(ev client.Event, m client.Message, re *client.RoomError) bool
	wire := ""      // the request's frame type
	queued := true  // it waits in the queue while not joined
	var id int64    // the message it names
	var text string // the text it carries
	switch cmd {
	case "!send":
		text, wire = arg, protocol.TypeMessage
		do = func() (client.Event, client.Message, error) {
			m, err := r.c.Send(ctx, text)
			return nil, m, err
		}
		check = func(_ client.Event, m client.Message, re *client.RoomError) bool {
			if re != nil {
				return re.Request == protocol.TypeMessage && re.Text == text
			}
			return m.ID > 0 && m.Text == text
		}
	case "!edit":
		ids, t, _ := strings.Cut(arg, " ")
		id, _ = strconv.ParseInt(ids, 10, 64)
		text, wire = t, protocol.TypeEdit
		do = func() (client.Event, client.Message, error) {
			e, err := r.c.Edit(ctx, id, text)
			return &e, client.Message{}, err
		}
		check = func(ev client.Event, _ client.Message, re *client.RoomError) bool {
			if re != nil {
				return re.Request == protocol.TypeEdit && re.Text == text && re.MessageID == id
			}
			e := ev.(*client.MessageEdited)
			return e.ID > 0 && e.MessageID == id && e.Text == text
		}
	case "!delete":
		id, _ = strconv.ParseInt(arg, 10, 64)
		wire = protocol.TypeDelete
		do = func() (client.Event, client.Message, error) {
			d, err := r.c.Delete(ctx, id)
			return &d, client.Message{}, err
		}
		check = func(ev client.Event, _ client.Message, re *client.RoomError) bool {
			if re != nil {
				return re.Request == protocol.TypeDelete && re.MessageID == id
			}
			d := ev.(*client.MessageDeleted)
			return d.ID > 0 && d.MessageID == id
		}
	case "!react":
		ids, emoji, _ := strings.Cut(arg, " ")
		id, _ = strconv.ParseInt(ids, 10, 64)
		wire, queued = protocol.TypeReact, false
		do = func() (client.Event, client.Message, error) {
			e, err := r.c.React(ctx, id, emoji)
			return &e, client.Message{}, err
		}
		check = func(ev client.Event, _ client.Message, re *client.RoomError) bool {
			if re != nil {
				return re.Request == protocol.TypeReact && re.MessageID == id && re.Emoji == emoji
			}
			e := ev.(*client.Reaction)
			return e.ID > 0 && e.MessageID == id && e.Emoji == emoji
		}
	case "!mod":
		f := strings.SplitN(arg, " ", 4)
		f = append(f, "", "", "", "")
		action, user := client.Action(f[0]), f[1]
		seconds, _ := strconv.ParseInt(f[2], 10, 64)
		reason := f[3]
		wire = string(action)
		do = func() (client.Event, client.Message, error) {
			e, err := r.c.Moderate(ctx, action, user, seconds, reason)
			return &e, client.Message{}, err
		}
		check = func(ev client.Event, _ client.Message, re *client.RoomError) bool {
			if re != nil {
				return re.Request == string(action) && re.UserID == user
			}
			e := ev.(*client.Moderated)
			return e.ID > 0 && e.Kind == action && e.UserID == user
		}
	case "!slow":
		seconds, _ := strconv.ParseInt(arg, 10, 64)
		wire = protocol.TypeSlowMode
		do = func() (client.Event, client.Message, error) {
			e, err := r.c.SlowMode(ctx, seconds)
			return &e, client.Message{}, err
		}
		check = func(ev client.Event, _ client.Message, re *client.RoomError) bool {
			if re != nil {
				return re.Request == protocol.TypeSlowMode
			}
			return ev.(*client.RoomSettings).SlowModeSeconds == seconds
		}
	}
	var sent int
	if r.conn != nil {
		sent = r.conn.count()
	}
	queuedBefore := r.c.Queued()
	r.calls.Add(1)
	go func() {
		defer r.calls.Done()
		defer close(done)
		ev, m, err := do()
		var re *client.RoomError
		switch {
		case err == nil:
			if !check(ev, m, nil) {
				r.errorf("%s %s: answered with %+v %+v", cmd, arg, ev, m)
			}
		case errors.Is(err, client.ErrClosed), errors.Is(err, client.ErrUnconfirmed), errors.Is(err, client.ErrQueueFull),
			errors.Is(err, context.Canceled):
		case errors.Is(err, client.ErrReset) && (cmd == "!edit" || cmd == "!delete"):
		case errors.Is(err, client.ErrNotConnected) && !queued:
		case errors.As(err, &re) && re.Request == "":
			if !r.endError(err) {
				r.errorf("%s %s: %v", cmd, arg, err)
			}
		case errors.As(err, &re):
			if !check(nil, client.Message{}, re) {
				r.errorf("%s %s: refused with %+v", cmd, arg, re)
			}
		case cmd == "!mod" && strings.Contains(err.Error(), "unknown moderation action"):
		default:
			r.errorf("%s %s: %v", cmd, arg, err)
		}
	}()
	// Wait until the client has it: on the wire, in the queue, or answered.
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-r.ctx.Done():
			r.fatalf("%s %s: the client neither sent, queued nor answered it", cmd, arg)
		default:
		}
		if queued && r.c.Queued() > queuedBefore {
			return
		}
		if r.conn != nil {
			got, _ := r.conn.received(sent)
			for _, g := range got {
				var head protocol.Pong
				if protocol.Unmarshal(g, &head) == nil && head.Type == wire {
					return
				}
			}
		}
		runtime.Gosched()
	}
}

// finish closes the client and checks how it ended.
func (r *fuzzRun) finish() {
	if r.conn != nil {
		r.flush(nil, false)
	}
	fatal := r.c.Err() // set before Close only by a fatal error
	closeDone := make(chan struct{})
	go func() {
		r.c.Close()
		close(closeDone)
	}()
	select {
	case <-closeDone:
	case <-r.ctx.Done():
		r.fatalf("Close hung")
	}
	callsDone := make(chan struct{})
	go func() {
		r.calls.Wait()
		close(callsDone)
	}()
	select {
	case <-callsDone:
	case <-r.ctx.Done():
		r.fatalf("a call did not return after Close")
	}
	if !r.ended {
		select {
		case evs := <-r.final:
			r.ended = true
			r.check(evs, nil, false)
		case <-r.ctx.Done():
			r.fatalf("Events was not closed after Close")
		}
	}
	for _, pc := range r.conns {
		pc.ws.CloseNow()
		select {
		case <-pc.done:
		case <-r.ctx.Done():
			r.fatalf("a socket's reader did not end")
		}
	}
	err := r.c.Err()
	if fatal != nil && err != fatal {
		r.errorf("Err: %v, then %v after Close", fatal, err)
	}
	if r.closedSt != nil && r.closedSt.Err != err {
		r.errorf("the Closed status says %v, Err %v", r.closedSt.Err, err)
	}
	if fatal != nil && r.closedSt == nil {
		r.errorf("ended by %v without a Closed status", fatal)
	}
	close(r.endErrs)
	for e := range r.endErrs {
		if e != err {
			r.errorf("a call returned %v, but the client ended with %v", e, err)
		}
	}
	for _, cancel := range r.cancels {
		cancel()
	}
}

type fuzzSeed struct {
	since     uint8
	anonymous bool
	script    string
}

// fuzzSeeds are every frame the room sends, at the moments it sends them,
// the calls each answers, and malformed variants.
func fuzzSeeds() []fuzzSeed {
	const ts = "2026-01-02T03:04:05.000Z"
	reason := func(s string) *string { return &s }
	lines := func(l ...string) string { return strings.Join(l, "\n") }
	type m = protocol.StoredMessage

	// A first join, and a resume after 3 with what changed meanwhile.
	userJoined := mk(protocol.UserJoined{Type: protocol.TypeUserJoined, UserID: "alice", Timestamp: ts})
	presence := mk(protocol.Presence{Type: protocol.TypePresence, Users: []string{"alice", "bob"}})
	settings := mk(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: 5})
	history := mk(protocol.History{Type: protocol.TypeHistory, Messages: []m{
		{ID: 1, UserID: "bob", Text: "hello", Timestamp: ts},
		{ID: 2, UserID: "alice", Text: "hi", Timestamp: ts, EditedAt: ts,
			Reactions: []protocol.ReactionSummary{{Emoji: "👍", Count: 2, Users: []string{"bob", "alice"}}}},
		{ID: 3, UserID: "bob", Text: "x", Timestamp: ts},
	}})
	readState := mk(protocol.ReadState{Type: protocol.TypeReadState, LastRead: 1, Unread: 2})
	join := lines(userJoined, presence, settings, history, readState)

	edited := mk(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: 5, MessageID: 2, UserID: "alice", Text: "hi!", EditedAt: ts})
	deleted := mk(protocol.MessageDeleted{Type: protocol.TypeMessageDeleted, ID: 6, MessageID: 1, By: "bob", Timestamp: ts})
	reacted := mk(protocol.Reaction{Type: protocol.TypeReaction, ID: 7, MessageID: 3, Emoji: "🎉", UserID: "bob", Added: true})
	mutedEv := mk(protocol.Moderation{Type: protocol.TypeUserMuted, ID: 8, UserID: "carol", By: "bob", Reason: reason("spam"),
		Until: &protocol.Until{At: ts}, Timestamp: ts})
	resume := lines(userJoined, presence, mk(protocol.History{Type: protocol.TypeHistory, Messages: []m{
		{ID: 4, UserID: "bob", Text: "while away", Timestamp: ts},
		{ID: 9, UserID: "alice", Text: "lost", Timestamp: ts},
	}, Changes: []protocol.Raw{protocol.Raw(edited), protocol.Raw(deleted), protocol.Raw(reacted), protocol.Raw(mutedEv)}}),
		mk(protocol.ReadState{Type: protocol.TypeReadState, LastRead: 3, Unread: protocol.MaxUnread, Capped: true}))

	errFrame := func(code string) string {
		return mk(protocol.ErrorFrame{Type: protocol.TypeError, Code: code, Message: "refused"})
	}
	modError := func(code, until string, retry int64) string {
		return mk(protocol.ModerationError{Type: protocol.TypeError, Code: code, Message: "refused", Until: &protocol.Until{At: until}, RetryAfterMs: retry})
	}
	moderation := func(typ string, id int64, user string, until *protocol.Until) string {
		return mk(protocol.Moderation{Type: typ, ID: id, UserID: user, By: "alice", Reason: reason("because"), Until: until, Timestamp: ts})
	}
	message := func(id int64, user, text string) string {
		return mk(protocol.ChatMessage{Type: protocol.TypeMessage, ID: id, UserID: user, Text: text, Timestamp: ts})
	}

	// Every frame the room sends once joined.
	live := []string{
		message(10, "bob", "hello"),
		mk(protocol.UserLeft{Type: protocol.TypeUserLeft, UserID: "bob", Timestamp: ts}),
		mk(protocol.UserJoined{Type: protocol.TypeUserJoined, UserID: "carol", Timestamp: ts}),
		presence,
		mk(protocol.PresenceSummary{Type: protocol.TypePresence, Users: []string{}, Count: 1500, Truncated: true}),
		protocol.PongFrame,
		mk(protocol.RateLimited{Type: protocol.TypeError, Code: protocol.CodeRateLimited, Message: "slow down", RetryAfterMs: 250}),
		modError(protocol.CodeMuted, ts, 0),
		modError(protocol.CodeMuted, "", 0),
		modError(protocol.CodeSlowMode, "", 1500),
		mk(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: 11, MessageID: 3, UserID: "bob", Text: "x!", EditedAt: ts}),
		mk(protocol.MessageDeleted{Type: protocol.TypeMessageDeleted, ID: 11, MessageID: 2, By: "alice", Timestamp: ts}),
		moderation(protocol.TypeUserKicked, 11, "bob", nil),
		moderation(protocol.TypeUserBanned, 11, "bob", &protocol.Until{At: ts}),
		moderation(protocol.TypeUserBanned, 11, "bob", &protocol.Until{}),
		moderation(protocol.TypeUserUnbanned, 11, "bob", nil),
		moderation(protocol.TypeUserMuted, 11, "bob", &protocol.Until{At: ts}),
		moderation(protocol.TypeUserUnmuted, 11, "bob", nil),
		mk(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: 30}),
		mk(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: 0}),
		mk(protocol.Typing{Type: protocol.TypeTyping, UserID: "bob"}),
		mk(protocol.ReadMarker{Type: protocol.TypeRead, UserID: "bob", ID: 3}),
		mk(protocol.ReadMarker{Type: protocol.TypeRead, UserID: "alice", ID: 3}),
		mk(protocol.ReadState{Type: protocol.TypeReadState, LastRead: 2, Unread: protocol.MaxUnread, Capped: true}),
		mk(protocol.Reaction{Type: protocol.TypeReaction, ID: 11, MessageID: 3, Emoji: "👍", UserID: "bob", Added: true}),
		mk(protocol.Reaction{Type: protocol.TypeReaction, ID: 12, MessageID: 2, Emoji: "👍", UserID: "bob", Added: false}),
	}
	for _, code := range []string{protocol.CodeNotFound, protocol.CodeInvalidMessage, protocol.CodeMessageTooLong,
		protocol.CodeContentBlocked, protocol.CodeStorage, protocol.CodeForbidden, protocol.CodeInvalidID,
		protocol.CodeInvalidReaction, protocol.CodeTooManyReactions, protocol.CodeNotJoined, protocol.CodeInvalidSeconds,
		protocol.CodeInvalidReason, protocol.CodeUnknownType, protocol.CodeInvalidJSON, protocol.CodeInvalidSince} {
		live = append(live, errFrame(code))
	}
	// Malformed frames: wrong types, nulls, huge numbers, negative ids,
	// invalid UTF-8, truncated JSON, non-objects.
	live = append(live,
		`{"type":"message","id":"4","userId":"bob","text":"x","timestamp":"`+ts+`"}`,
		`{"type":"message","id":null,"userId":"bob","text":"x"}`,
		`{"type":"message","id":-1,"userId":"bob","text":"x"}`,
		`{"type":"message","id":0,"userId":"bob","text":"x"}`,
		`{"type":"message","id":9223372036854775807,"userId":"bob","text":"x"}`,
		`{"type":"message","id":9223372036854775808,"userId":"bob","text":"x"}`,
		`{"type":"message","id":1e3,"userId":"bob","text":"x"}`,
		`{"type":"message","id":4.5,"userId":"bob","text":"x"}`,
		"{\"type\":\"message\",\"id\":11,\"userId\":\"b\xffob\",\"text\":\"\xfe\",\"timestamp\":\"not a time\"}",
		`{"type":"message","id":11,"userId":null,"text":null,"timestamp":null}`,
		`{"type":"message","id":11,"id":12,"userId":"bob","text":"twice"}`,
		`{"type":"message","id":11,"userId":"bob","text":"x","extra":{"a":[1,{"b":null}]}}`,
		`{"type":"reaction","id":11,"messageId":-3,"emoji":"👍","userId":"bob","added":true}`,
		`{"type":"reaction","id":11,"messageId":0,"emoji":"👍","userId":"bob","added":"yes"}`,
		`{"type":"message_edited","id":-11,"messageId":3,"userId":"bob","text":"x"}`,
		`{"type":"message_edited","id":11,"messageId":-3,"userId":"bob","text":"x"}`,
		`{"type":"message_deleted","id":11,"messageId":0,"by":"bob"}`,
		`{"type":"user_kicked","id":0,"userId":"bob","by":"alice"}`,
		`{"type":"user_muted","id":11,"userId":"bob","by":"alice","reason":5}`,
		`{"type":"user_banned","id":11,"userId":"bob","by":"alice","until":7}`,
		`{"type":"user_banned","id":11,"userId":"bob","by":"alice","until":"garbage","timestamp":"2026-13-45T99:99:99.000Z"}`,
		`{"type":"error","code":"rate_limited","message":"x","retryAfterMs":9223372036854775807}`,
		`{"type":"error","code":"rate_limited","message":"x","retryAfterMs":-250}`,
		`{"type":"error","code":"muted","message":"x","until":5}`,
		`{"type":"error","code":"muted","message":"x","until":"garbage"}`,
		`{"type":"error","code":null,"message":null}`,
		`{"type":"error"}`,
		`{"type":"presence","users":[1,2]}`,
		`{"type":"presence","users":null,"truncated":true,"count":-5}`,
		`{"type":"presence","users":["a","b"],"truncated":true,"count":1}`,
		`{"type":"read_state","lastRead":-1,"unread":-5}`,
		`{"type":"read","userId":"alice","id":9223372036854775807}`,
		`{"type":"room_settings","slowModeSeconds":-1}`,
		`{"type":"typing","userId":""}`,
		`{"type":"history","messages":[]}`,
		`{"type":"message","id":4,"te`,
		`[]`, `null`, `"message"`, `42`, `{}`, ``, ` `,
		`{"type":null}`, `{"type":["message"]}`, `{"type":"unknown_frame","id":50}`,
		`{"type":"pong"} trailing`,
		`{"type":"pong","type":"message","id":12,"userId":"bob","text":"dup"}`,
		"{\"type\":\"mess\xffage\",\"id\":12}",
		`!binary `+message(12, "bob", "binary"),
	)

	var seeds []fuzzSeed
	add := func(since uint8, script ...string) {
		seeds = append(seeds, fuzzSeed{since: since, script: lines(script...) + "\n"})
	}
	for _, f := range live {
		add(0, join, f)
		add(3, resume, f)
	}
	// Frames before the join is answered, and the join's refusals.
	for _, f := range []string{
		modError(protocol.CodeBanned, ts, 0), modError(protocol.CodeBanned, "", 0),
		errFrame(protocol.CodeForbidden), errFrame(protocol.CodeInvalidUserID), errFrame(protocol.CodeAlreadyJoined),
		errFrame(protocol.CodeTooManyConnections), errFrame(protocol.CodeStorage), errFrame(protocol.CodeRateLimited),
		message(4, "bob", "early"), mk(protocol.ReadState{Type: protocol.TypeReadState, LastRead: 2}), edited,
	} {
		add(0, userJoined, f, presence, history, readState)
		add(3, userJoined, f, resume)
	}
	// invalid_since: the room forgot the resume point; start over.
	add(5, userJoined, errFrame(protocol.CodeInvalidSince), userJoined, presence, history, readState, message(4, "bob", "after"))
	add(5, userJoined, errFrame(protocol.CodeInvalidSince), "!drop", userJoined, presence, history)
	add(5, "!edit 2 queued", userJoined, errFrame(protocol.CodeInvalidSince), userJoined, history)
	// A protected room: the user_joined names the user.
	seeds = append(seeds, fuzzSeed{anonymous: true, script: lines(join, "!send hi", message(10, "alice", "hi")) + "\n"})
	seeds = append(seeds, fuzzSeed{anonymous: true, script: lines(mk(protocol.UserJoined{Type: protocol.TypeUserJoined, UserID: "zoë", Timestamp: ts}),
		history, "!send x", message(4, "zoë", "x")) + "\n"})

	// The calls and their answers.
	add(0, join, "!send hi", message(10, "alice", "hi"))
	add(0, join, "!send hi", mk(protocol.RateLimited{Type: protocol.TypeError, Code: protocol.CodeRateLimited, Message: "slow", RetryAfterMs: 250}))
	add(0, join, "!send hi", modError(protocol.CodeMuted, ts, 0))
	add(0, join, "!send hi", message(0, "alice", "hi"))
	add(0, join, "!send hi", message(-4, "alice", "hi"))
	add(0, userJoined, "!send a", "!send b", "!send c", "!send d", history, message(4, "alice", "a"))
	add(0, join, "!edit 2 new", mk(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: 10, MessageID: 2, UserID: "alice", Text: "new", EditedAt: ts}))
	add(0, join, "!edit 2 new", `{"type":"message_edited","id":0,"messageId":2,"userId":"alice","text":"new"}`)
	add(0, join, "!edit 2 new", errFrame(protocol.CodeNotFound))
	add(0, join, "!delete 3", mk(protocol.MessageDeleted{Type: protocol.TypeMessageDeleted, ID: 10, MessageID: 3, By: "alice", Timestamp: ts}))
	add(0, join, "!delete 3", `{"type":"message_deleted","id":-5,"messageId":3,"by":"alice"}`)
	add(0, join, "!react 3 👍", mk(protocol.Reaction{Type: protocol.TypeReaction, ID: 10, MessageID: 3, Emoji: "👍", UserID: "alice", Added: true}))
	add(0, join, "!react 3 👍", `{"type":"reaction","id":-10,"messageId":3,"emoji":"👍","userId":"alice","added":true}`)
	add(0, join, "!react 3 👍", errFrame(protocol.CodeTooManyReactions))
	add(0, join, "!react 3 xx")
	add(0, "!react 3 👍", join)
	add(0, join, "!mod ban bob 60 spam", moderation(protocol.TypeUserBanned, 10, "bob", &protocol.Until{At: ts}))
	add(0, join, "!mod kick bob", errFrame(protocol.CodeForbidden))
	add(0, join, "!mod dance bob")
	add(0, join, "!slow 10", mk(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: 10}))
	add(0, join, "!slow 10", errFrame(protocol.CodeInvalidSeconds))
	add(0, join, "!read 3", "!read 2", "!read 99", "!read 0", "!typing", "!typing")
	add(0, "!typing", "!read 1", join)
	add(0, join, "!send x", "!cancel", "!edit 2 y", "!cancel", message(10, "alice", "x"))
	// Cut off with calls in flight: the resume tells what the room has.
	add(3, resume, "!send lost", "!edit 2 z", "!react 3 👍", "!slow 10", "!drop", userJoined,
		mk(protocol.History{Type: protocol.TypeHistory, Messages: []m{{ID: 10, UserID: "alice", Text: "lost", Timestamp: ts}},
			Changes: []protocol.Raw{protocol.Raw(mk(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: 11, MessageID: 2, UserID: "alice", Text: "z", EditedAt: ts}))}}))
	add(3, resume, "!send lost", "!delete 2", "!drop", userJoined, mk(protocol.History{Type: protocol.TypeHistory, Truncated: true}))
	add(0, join, "!send lost", "!close 4001 token expired", userJoined, history)
	add(0, join, "!close 1011 internal", userJoined, history, "!close 1000 bye", userJoined, history)
	// Kicked or banned: the client ends.
	add(0, join, moderation(protocol.TypeUserKicked, 10, "alice", nil), "!close 4003 kicked", "!send after")
	add(0, join, "!send x", moderation(protocol.TypeUserBanned, 10, "alice", &protocol.Until{At: ts}), "!close 4003 banned", "!read 1")
	add(0, userJoined, modError(protocol.CodeBanned, ts, 0), "!close 4003 banned")
	// Histories that no room sends.
	for _, h := range []string{
		`{"type":"history","messages":null}`,
		`{"type":"history","messages":[null,{"id":"x"}]}`,
		`{"type":"history","messages":[{"id":5,"userId":"a","text":"x","timestamp":"t"},{"id":5,"userId":"b","text":"y","timestamp":"t"}]}`,
		`{"type":"history","messages":[{"id":7,"userId":"a","text":"x"},{"id":6,"userId":"a","text":"y"}]}`,
		`{"type":"history","messages":[{"id":-3,"userId":"alice","text":"lost"},{"id":0,"userId":"alice","text":"lost"}]}`,
		`{"type":"history","changes":[1,"x",null,{},{"type":"message_edited","id":-1,"messageId":2}]}`,
		`{"type":"history","messages":[{"id":4,"userId":"a","text":"x"}],"changes":[{"type":"reaction","id":4,"messageId":1,"emoji":"x","userId":"bob","added":true}]}`,
		`{"type":"history","changes":[{"type":"reaction","id":9,"messageId":1,"emoji":"x","userId":"bob","added":true},{"type":"reaction","id":9,"messageId":1,"emoji":"x","userId":"bob","added":false}]}`,
		`{"type":"history","messages":[{"id":9223372036854775807,"userId":"a","text":"x","reactions":[{"emoji":"👍","count":-1,"users":null}]}]}`,
		`{"type":"history","truncated":"yes"}`,
	} {
		add(0, userJoined, "!send lost", "!drop", userJoined, h, message(10, "bob", "after"))
		add(3, userJoined, h, history)
	}
	return seeds
}

func mk[T protocol.Marshaler](v T) string { return string(protocol.Marshal(v)) }
