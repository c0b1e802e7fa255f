package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
)

// fakeRoom is a small room server that speaks the wire protocol over a real
// WebSocket (coder/websocket's Accept on an httptest server): join with since,
// presence, history, message echo and broadcast, pings. Hooks let a test
// refuse upgrades, refuse joins, and drop a socket around a message. It
// records what it saw, and every change wakes waitFor.
type fakeRoom struct {
	srv *httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	msgs      []protocol.StoredMessage
	conns     map[*fakeConn]bool
	upgrades  int      // upgrade requests, refused or not
	tokens    []string // the bearer token of each upgrade request
	joins     []fakeJoin
	pings     int      // exact protocol.PingFrame frames
	queries   []string // HTTP API request URIs
	resumeMax int      // history on a resume, like the room's 500

	// refuse answers an upgrade with an HTTP error when it returns a status.
	refuse func(r *http.Request) (status int, code string)
	// onJoin refuses a join with an error code when it returns one.
	onJoin func(user string) string
	// onMessage decides a message's fate: "" stores and broadcasts it;
	// "drop" closes the sender's socket without storing it; "store-drop"
	// stores and broadcasts it to the others, then closes the sender's
	// socket before its echo; any other value is an error code to answer.
	onMessage func(text string) string
	// ignoreSince sends the latest history even on a resume, as a room
	// might after a restore: the client must drop what it already has.
	ignoreSince bool
	// freeze makes new sockets answer nothing, not even pings.
	freeze bool
}

type fakeJoin struct {
	user  string
	since int64 // -1: none
}

type fakeConn struct {
	ws     *websocket.Conn
	user   string
	frozen atomic.Bool
}

// newFakeRoom starts a fake room that the test's cleanup stops.
func newFakeRoom(t testing.TB) *fakeRoom {
	f := startFakeRoom()
	t.Cleanup(f.stop)
	return f
}

// startFakeRoom starts a fake room; stop ends it.
func startFakeRoom() *fakeRoom {
	f := &fakeRoom{changed: make(chan struct{}), conns: map[*fakeConn]bool{}, resumeMax: 500}
	f.srv = httptest.NewServer(f)
	return f
}

// stop closes every socket and the server, and waits for their goroutines.
func (f *fakeRoom) stop() {
	f.kick(0, "")
	f.srv.Close()
}

func (f *fakeRoom) URL() string { return f.srv.URL }

// change wakes every waitFor; the caller holds mu.
func (f *fakeRoom) change() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// waitFor waits until cond, checked under the room's lock, holds.
func (f *fakeRoom) waitFor(t testing.TB, what string, cond func(f *fakeRoom) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		f.mu.Lock()
		ok, ch := cond(f), f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("fake room: timed out waiting for %s", what)
		}
	}
}

// set runs fn under the room's lock, to change its hooks.
func (f *fakeRoom) set(fn func(f *fakeRoom)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
	f.change()
}

func (f *fakeRoom) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.msgs {
		out = append(out, m.Text)
	}
	return out
}

// kick closes every socket: with code, or abruptly when code is 0.
func (f *fakeRoom) kick(code websocket.StatusCode, reason string) {
	f.mu.Lock()
	conns := make([]*fakeConn, 0, len(f.conns))
	for fc := range f.conns {
		conns = append(conns, fc)
	}
	f.mu.Unlock()
	for _, fc := range conns {
		if code == 0 {
			fc.ws.CloseNow()
		} else {
			fc.ws.Close(code, reason)
		}
	}
}

// freezeAll makes every open socket half-open: it answers nothing more.
func (f *fakeRoom) freezeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fc := range f.conns {
		fc.frozen.Store(true)
	}
}

// inject stores a message from a user with no socket and broadcasts it.
func (f *fakeRoom) inject(user, text string) protocol.StoredMessage {
	f.mu.Lock()
	m := f.store(user, text)
	targets := f.joined(nil)
	f.mu.Unlock()
	f.broadcast(targets, m)
	return m
}

// store appends a message; the caller holds mu.
func (f *fakeRoom) store(user, text string) protocol.StoredMessage {
	m := protocol.StoredMessage{ID: int64(len(f.msgs) + 1), UserID: user, Text: text, Timestamp: protocol.Timestamp(time.Now())}
	f.msgs = append(f.msgs, m)
	f.change()
	return m
}

// joined lists the joined sockets but except; the caller holds mu.
func (f *fakeRoom) joined(except *fakeConn) []*fakeConn {
	var out []*fakeConn
	for fc := range f.conns {
		if fc.user != "" && fc != except {
			out = append(out, fc)
		}
	}
	return out
}

func (f *fakeRoom) broadcast(to []*fakeConn, m protocol.StoredMessage) {
	frame := protocol.Marshal(protocol.ChatMessage{Type: protocol.TypeMessage, ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp})
	for _, fc := range to {
		fc.write(frame)
	}
}

func (fc *fakeConn) write(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	fc.ws.Write(ctx, websocket.MessageText, frame)
}

func (fc *fakeConn) fail(code, msg string) {
	if code == protocol.CodeRateLimited {
		fc.write(protocol.Marshal(protocol.RateLimited{Type: protocol.TypeError, Code: code, Message: msg, RetryAfterMs: 250}))
		return
	}
	fc.write(protocol.Marshal(protocol.ErrorFrame{Type: protocol.TypeError, Code: code, Message: msg}))
}

func (f *fakeRoom) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/rooms/"); ok {
		f.serveAPI(w, r, rest)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/chat/") {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.upgrades++
	f.tokens = append(f.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	refuse := f.refuse
	f.change()
	f.mu.Unlock()
	if refuse != nil {
		if status, code := refuse(r); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(protocol.Marshal(protocol.HTTPError{Error: code, Message: "refused by the fake room"}))
			return
		}
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	fc := &fakeConn{ws: ws}
	f.mu.Lock()
	fc.frozen.Store(f.freeze)
	f.conns[fc] = true
	f.change()
	f.mu.Unlock()
	defer f.gone(fc)
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		if fc.frozen.Load() {
			continue
		}
		f.frame(fc, data)
	}
}

func (f *fakeRoom) gone(fc *fakeConn) {
	fc.ws.CloseNow()
	f.mu.Lock()
	delete(f.conns, fc)
	var others []*fakeConn
	if fc.user != "" && !slices.ContainsFunc(f.joined(nil), func(o *fakeConn) bool { return o.user == fc.user }) {
		others = f.joined(nil)
	}
	f.change()
	f.mu.Unlock()
	left := protocol.Marshal(protocol.UserLeft{Type: protocol.TypeUserLeft, UserID: fc.user, Timestamp: protocol.Timestamp(time.Now())})
	for _, o := range others {
		o.write(left)
	}
}

func (f *fakeRoom) frame(fc *fakeConn, data []byte) {
	if string(data) == protocol.PingFrame {
		f.mu.Lock()
		f.pings++
		f.change()
		f.mu.Unlock()
		fc.write([]byte(protocol.PongFrame))
		return
	}
	req, rej := protocol.Decode(data)
	if rej != nil {
		fc.fail(rej.Code, rej.Message)
		return
	}
	switch req.Type {
	case protocol.TypeJoin:
		f.join(fc, req)
	case protocol.TypeMessage:
		f.message(fc, req.Text)
	}
}

func (f *fakeRoom) join(fc *fakeConn, req protocol.Request) {
	f.mu.Lock()
	since := int64(-1)
	if req.HasSince {
		since = req.Since
	}
	f.joins = append(f.joins, fakeJoin{req.UserID, since})
	f.change()
	onJoin := f.onJoin
	f.mu.Unlock()
	if onJoin != nil {
		if code := onJoin(req.UserID); code != "" {
			fc.fail(code, "refused by the fake room")
			return
		}
	}
	f.mu.Lock()
	if req.HasSince && req.Since > int64(len(f.msgs)) {
		f.mu.Unlock()
		fc.fail(protocol.CodeInvalidSince, "since is ahead of the room")
		return
	}
	fc.user = req.UserID
	var users []string
	for _, o := range f.joined(nil) {
		if !slices.Contains(users, o.user) {
			users = append(users, o.user)
		}
	}
	slices.Sort(users)
	others := f.joined(fc)
	var hist []protocol.StoredMessage
	truncated := false
	if req.HasSince && !f.ignoreSince {
		hist = f.msgs[req.Since:]
		if len(hist) > f.resumeMax {
			hist, truncated = hist[:f.resumeMax], true
		}
	} else {
		hist = f.msgs[max(0, len(f.msgs)-50):]
		truncated = len(f.msgs) > 50
	}
	hist = slices.Clone(hist)
	f.change()
	f.mu.Unlock()
	joined := protocol.Marshal(protocol.UserJoined{Type: protocol.TypeUserJoined, UserID: fc.user, Timestamp: protocol.Timestamp(time.Now())})
	fc.write(joined)
	fc.write(protocol.Marshal(protocol.Presence{Type: protocol.TypePresence, Users: users}))
	fc.write(protocol.Marshal(protocol.History{Type: protocol.TypeHistory, Messages: append([]protocol.StoredMessage{}, hist...), Truncated: truncated}))
	for _, o := range others {
		o.write(joined)
	}
}

func (f *fakeRoom) message(fc *fakeConn, text string) {
	f.mu.Lock()
	onMessage := f.onMessage
	f.mu.Unlock()
	fate := ""
	if onMessage != nil {
		fate = onMessage(text)
	}
	switch fate {
	case "":
	case "drop":
		fc.ws.CloseNow()
		return
	case "store-drop":
		f.mu.Lock()
		m := f.store(fc.user, text)
		others := f.joined(fc)
		f.mu.Unlock()
		fc.ws.CloseNow()
		f.broadcast(others, m)
		return
	default:
		fc.fail(fate, "refused by the fake room")
		return
	}
	if fc.user == "" {
		fc.fail(protocol.CodeNotJoined, "join first")
		return
	}
	f.mu.Lock()
	m := f.store(fc.user, text)
	targets := f.joined(nil)
	f.mu.Unlock()
	f.broadcast(targets, m)
}

// serveAPI answers GET /api/rooms/{room} and /api/rooms/{room}/messages.
func (f *fakeRoom) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, r.URL.RequestURI()+" token="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	f.change()
	if f.refuse != nil {
		if status, code := f.refuse(r); status != 0 {
			w.WriteHeader(status)
			w.Write(protocol.Marshal(protocol.HTTPError{Error: code, Message: "refused by the fake room"}))
			return
		}
	}
	room, sub, _ := strings.Cut(rest, "/")
	switch sub {
	case "":
		var users []string
		for _, o := range f.joined(nil) {
			users = append(users, o.user)
		}
		w.Write(protocol.Marshal(protocol.RoomInfo{Room: room, Users: users, Connections: len(f.conns), LastMessageID: int64(len(f.msgs))}))
	case "messages":
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil {
			limit = 50
		}
		if since > len(f.msgs) {
			w.WriteHeader(400)
			w.Write(protocol.Marshal(protocol.HTTPError{Error: protocol.CodeInvalidSince, Message: "ahead"}))
			return
		}
		page := f.msgs[since:]
		truncated := len(page) > limit
		page = page[:min(limit, len(page))]
		w.Write(protocol.Marshal(protocol.MessagesPage{Room: room, Messages: slices.Clone(page), Truncated: truncated}))
	default:
		http.NotFound(w, r)
	}
}
