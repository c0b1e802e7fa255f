package client_test

import (
	"context"
	"fmt"
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
// presence, history (with a resume's changes), message echo and broadcast,
// edits and deletions, moderation (kick, ban, mute, slow mode, with 4003
// closes), pings, and the live signals (typing forwarded, read markers
// forward only with read_state after each history, reaction toggles with
// their summaries in history). Messages and changes share one sequence of
// positions.
// Hooks let a test refuse upgrades, refuse joins, and drop a socket around
// a message or a change. It records what it saw, and every change wakes
// waitFor.
type fakeRoom struct {
	srv *httptest.Server

	// order is held from taking a position until its frame is written to
	// every socket (taken before mu): the real room handles one event at a
	// time, so every socket gets the positions in order, and a client drops
	// a position below one it has seen.
	order     sync.Mutex
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	last      int64         // the last position taken
	msgs      []protocol.StoredMessage
	changes   []fakeChange
	mods      map[string]bool      // users whose frames moderate
	bans      map[string]string    // banned users, with until ("" for until lifted)
	mutes     map[string]string    // muted users, likewise
	slow      int64                // slow mode's seconds
	lastPost  map[string]time.Time // for slow mode
	frames    []string             // the edit, delete, moderation and react frames received
	signals   []string             // the typing and read frames received: "typing alice", "read alice 3"
	reads     map[string]int64     // each user's read position
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
	// onChange decides the fate of an edit, delete or moderation frame
	// (not slow_mode's) as onMessage does: "" carries it out; "drop" closes
	// the sender's socket without carrying it out; "apply-drop" carries it
	// out and tells the others, then closes the sender's socket; "silent"
	// answers nothing; any other value is an error code to answer. It is
	// called under the room's lock.
	onChange func(req protocol.Request) string
	// ignoreSince sends the latest history even on a resume, as a room
	// might after a restore: the client must drop what it already has.
	ignoreSince bool
	// freeze makes new sockets answer nothing, not even pings.
	freeze bool
	// noReadState leaves read_state out of the join, as an older room.
	noReadState bool
	// readStateGate, when set, holds each join's read_state back until it
	// can receive from it.
	readStateGate chan struct{}
}

// fakeChange is an edit, a deletion, a reaction or a moderation event at
// its position; messageID is 0 for a moderation event.
type fakeChange struct {
	pos, messageID int64
	frame          []byte
}

type fakeJoin struct {
	user  string
	since int64 // -1: none
}

type fakeConn struct {
	ws     *websocket.Conn
	user   string
	frozen atomic.Bool
	// ousted is set once the socket's user is kicked or banned: as in the
	// room, which closes it at once, nothing it sends after is handled.
	ousted atomic.Bool
	// wmu orders the socket's frames: the join holds it from the moment
	// its user is joined until its read_state is written, so that nothing
	// broadcast comes in between, as in the room, which is one thread.
	wmu sync.Mutex
}

// newFakeRoom starts a fake room that the test's cleanup stops.
func newFakeRoom(t testing.TB) *fakeRoom {
	f := startFakeRoom()
	t.Cleanup(f.stop)
	return f
}

// startFakeRoom starts a fake room; stop ends it.
func startFakeRoom() *fakeRoom {
	f := &fakeRoom{changed: make(chan struct{}), conns: map[*fakeConn]bool{}, resumeMax: 500,
		mods: map[string]bool{}, bans: map[string]string{}, mutes: map[string]string{}, lastPost: map[string]time.Time{},
		reads: map[string]int64{}}
	f.srv = httptest.NewServer(f)
	return f
}

// stop closes every socket and the server, and waits for their goroutines.
func (f *fakeRoom) stop() {
	f.kick(0, "")
	f.srv.Close()
}

func (f *fakeRoom) URL() string { return f.srv.URL }

// fakeBanUntil is the end of the ban that a refused "banned" upgrade tells.
const fakeBanUntil = "2030-01-02T03:04:05.000Z"

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

// store appends a message at the next position; the caller holds mu.
func (f *fakeRoom) store(user, text string) protocol.StoredMessage {
	f.last++
	m := protocol.StoredMessage{ID: f.last, UserID: user, Text: text, Timestamp: protocol.Timestamp(time.Now())}
	f.msgs = append(f.msgs, m)
	f.lastPost[user] = time.Now()
	f.change()
	return m
}

// find is the index of message id, or -1; the caller holds mu.
func (f *fakeRoom) find(id int64) int {
	return slices.IndexFunc(f.msgs, func(m protocol.StoredMessage) bool { return m.ID == id })
}

// editMsg edits message id at the next position, as user; the caller holds
// mu. It returns the frame, or an error code.
func (f *fakeRoom) editMsg(user string, id int64, text string) ([]byte, string) {
	i := f.find(id)
	switch {
	case i < 0:
		return nil, protocol.CodeNotFound
	case f.msgs[i].UserID != user:
		return nil, protocol.CodeForbidden
	}
	f.last++
	now := protocol.Timestamp(time.Now())
	frame := protocol.Marshal(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: f.last, MessageID: id, UserID: user, Text: text, EditedAt: now})
	f.msgs[i].Text, f.msgs[i].EditedAt = text, now
	f.changes = append(f.changes, fakeChange{f.last, id, frame})
	f.change()
	return frame, ""
}

// deleteMsg deletes message id at the next position, by by; the caller
// holds mu.
func (f *fakeRoom) deleteMsg(by string, id int64) ([]byte, string) {
	i := f.find(id)
	switch {
	case i < 0:
		return nil, protocol.CodeNotFound
	case f.msgs[i].UserID != by && !f.mods[by]:
		return nil, protocol.CodeForbidden
	}
	f.last++
	frame := protocol.Marshal(protocol.MessageDeleted{Type: protocol.TypeMessageDeleted, ID: f.last, MessageID: id, By: by, Timestamp: protocol.Timestamp(time.Now())})
	f.msgs = slices.Delete(f.msgs, i, i+1)
	f.changes = slices.DeleteFunc(f.changes, func(c fakeChange) bool { return c.messageID == id })
	f.changes = append(f.changes, fakeChange{f.last, id, frame})
	f.change()
	return frame, ""
}

// fakeMaxReactions is the room's limit of distinct emoji on a message.
const fakeMaxReactions = 20

// reactMsg toggles user's reaction emoji on message id at the next
// position; the caller holds mu. The message's summaries are rebuilt, not
// changed in place: a history being written holds the old ones.
func (f *fakeRoom) reactMsg(user string, req protocol.Request) ([]byte, string) {
	switch {
	case !req.HasEmoji || req.EmojiErr != nil:
		return nil, protocol.CodeInvalidReaction
	case !req.HasID || req.IDErr != nil:
		return nil, protocol.CodeInvalidID
	}
	if _, muted := f.mutes[user]; muted {
		return nil, protocol.CodeMuted
	}
	i := f.find(req.ID)
	if i < 0 {
		return nil, protocol.CodeNotFound
	}
	var out []protocol.ReactionSummary
	added, found := true, false
	for _, r := range f.msgs[i].Reactions {
		if r.Emoji == req.Emoji {
			found = true
			users := slices.DeleteFunc(slices.Clone(r.Users), func(u string) bool { return u == user })
			if len(users) < len(r.Users) {
				added = false
			} else {
				users = append(users, user)
			}
			if len(users) == 0 {
				continue
			}
			r = protocol.ReactionSummary{Emoji: r.Emoji, Count: len(users), Users: users}
		}
		out = append(out, r)
	}
	if !found {
		if len(out) >= fakeMaxReactions {
			return nil, protocol.CodeTooManyReactions
		}
		out = append(out, protocol.ReactionSummary{Emoji: req.Emoji, Count: 1, Users: []string{user}})
	}
	f.msgs[i].Reactions = out
	f.last++
	frame := protocol.Marshal(protocol.Reaction{Type: protocol.TypeReaction, ID: f.last, MessageID: req.ID, Emoji: req.Emoji, UserID: user, Added: added})
	f.changes = append(f.changes, fakeChange{f.last, req.ID, frame})
	f.change()
	return frame, ""
}

// moderateUser carries out a moderation frame by by; the caller holds mu.
func (f *fakeRoom) moderateUser(by string, req protocol.Request) ([]byte, string) {
	if !f.mods[by] {
		return nil, protocol.CodeForbidden
	}
	switch req.Type {
	case protocol.TypeKick:
		if !slices.ContainsFunc(f.joined(nil), func(o *fakeConn) bool { return o.user == req.UserID }) {
			return nil, protocol.CodeNotFound
		}
	case protocol.TypeUnban:
		if _, ok := f.bans[req.UserID]; !ok {
			return nil, protocol.CodeNotFound
		}
	case protocol.TypeUnmute:
		if _, ok := f.mutes[req.UserID]; !ok {
			return nil, protocol.CodeNotFound
		}
	}
	f.last++
	now := time.Now()
	ev := protocol.Moderation{ID: f.last, UserID: req.UserID, By: by, Timestamp: protocol.Timestamp(now)}
	if req.Reason != "" {
		ev.Reason = &req.Reason
	}
	until := ""
	if req.Seconds > 0 {
		until = protocol.Timestamp(now.Add(time.Duration(req.Seconds) * time.Second))
	}
	switch req.Type {
	case protocol.TypeKick:
		ev.Type = protocol.TypeUserKicked
	case protocol.TypeBan:
		ev.Type, ev.Until = protocol.TypeUserBanned, &protocol.Until{At: until}
		f.bans[req.UserID] = until
	case protocol.TypeUnban:
		ev.Type = protocol.TypeUserUnbanned
		delete(f.bans, req.UserID)
	case protocol.TypeMute:
		ev.Type, ev.Until = protocol.TypeUserMuted, &protocol.Until{At: until}
		f.mutes[req.UserID] = until
	case protocol.TypeUnmute:
		ev.Type = protocol.TypeUserUnmuted
		delete(f.mutes, req.UserID)
	}
	frame := protocol.Marshal(ev)
	f.changes = append(f.changes, fakeChange{f.last, 0, frame})
	f.change()
	return frame, ""
}

// setSlow sets slow mode from outside, telling everyone.
func (f *fakeRoom) setSlow(seconds int64) {
	f.mu.Lock()
	f.slow = seconds
	targets := f.joined(nil)
	f.change()
	f.mu.Unlock()
	frame := protocol.Marshal(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: seconds})
	for _, fc := range targets {
		fc.write(frame)
	}
}

// act runs an edit, delete or moderation frame through onChange, then do,
// which carries it out under mu and returns the frame to tell everyone or
// an error code.
func (f *fakeRoom) act(fc *fakeConn, req protocol.Request, do func() ([]byte, string)) {
	f.mu.Lock()
	f.frames = append(f.frames, req.Type)
	fate := ""
	if f.onChange != nil {
		fate = f.onChange(req)
	}
	f.change()
	f.mu.Unlock()
	switch fate {
	case "", "apply-drop":
	case "drop":
		fc.ws.CloseNow()
		return
	case "silent":
		return
	default:
		fc.fail(fate, "refused by the fake room")
		return
	}
	if fc.user == "" {
		fc.fail(protocol.CodeNotJoined, "join first")
		return
	}
	f.order.Lock()
	defer f.order.Unlock()
	f.mu.Lock()
	frame, code := do()
	targets := f.joined(nil)
	f.mu.Unlock()
	if code != "" {
		fc.fail(code, "refused by the fake room")
		return
	}
	if fate == "apply-drop" {
		fc.ws.CloseNow()
		targets = slices.DeleteFunc(targets, func(o *fakeConn) bool { return o == fc })
	}
	if req.Type == protocol.TypeKick || req.Type == protocol.TypeBan {
		for _, o := range targets {
			if o.user == req.UserID {
				o.ousted.Store(true)
			}
		}
	}
	for _, o := range targets {
		o.write(frame)
	}
	if req.Type == protocol.TypeKick || req.Type == protocol.TypeBan {
		reason := map[string]string{protocol.TypeKick: "kicked", protocol.TypeBan: "banned"}[req.Type]
		for _, o := range targets {
			if o.user == req.UserID {
				o.ws.Close(protocol.CloseModerated, reason)
			}
		}
	}
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
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	fc.send(frame)
}

// send writes a frame; the caller holds wmu.
func (fc *fakeConn) send(frame []byte) {
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
			if code == protocol.CodeBanned {
				w.Write(protocol.Marshal(protocol.BannedBody{Error: code, Message: "banned", Until: &protocol.Until{At: fakeBanUntil}}))
				return
			}
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
		if fc.frozen.Load() || fc.ousted.Load() {
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
	case protocol.TypeEdit:
		f.act(fc, req, func() ([]byte, string) { return f.editMsg(fc.user, req.ID, req.Text) })
	case protocol.TypeDelete:
		f.act(fc, req, func() ([]byte, string) { return f.deleteMsg(fc.user, req.ID) })
	case protocol.TypeKick, protocol.TypeBan, protocol.TypeUnban, protocol.TypeMute, protocol.TypeUnmute:
		f.act(fc, req, func() ([]byte, string) { return f.moderateUser(fc.user, req) })
	case protocol.TypeReact:
		f.act(fc, req, func() ([]byte, string) { return f.reactMsg(fc.user, req) })
	case protocol.TypeTyping:
		f.mu.Lock()
		f.signals = append(f.signals, "typing "+fc.user)
		others := f.joined(fc)
		f.change()
		f.mu.Unlock()
		if fc.user == "" {
			fc.fail(protocol.CodeNotJoined, "join before you type")
			return
		}
		frame := protocol.Marshal(protocol.Typing{Type: protocol.TypeTyping, UserID: fc.user})
		for _, o := range others {
			o.write(frame)
		}
	case protocol.TypeRead:
		f.read(fc, req)
	case protocol.TypeSlowMode:
		f.mu.Lock()
		ok := f.mods[fc.user]
		f.mu.Unlock()
		if !ok {
			fc.fail(protocol.CodeForbidden, "for moderators")
			return
		}
		f.setSlow(req.Seconds)
	}
}

// read moves fc's user's read position forward and tells every other
// socket (the room coalesces them to one a second; the fake sends each).
func (f *fakeRoom) read(fc *fakeConn, req protocol.Request) {
	f.mu.Lock()
	f.signals = append(f.signals, fmt.Sprintf("read %s %d", fc.user, req.ID))
	f.change()
	code, news := "", false
	switch {
	case fc.user == "":
		code = protocol.CodeNotJoined
	case !req.HasID || req.IDErr != nil || req.ID > f.last:
		code = protocol.CodeInvalidID
	case req.ID > f.reads[fc.user]:
		f.reads[fc.user], news = req.ID, true
	}
	others := f.joined(fc)
	f.mu.Unlock()
	if code != "" {
		fc.fail(code, "refused by the fake room")
		return
	}
	if news {
		frame := protocol.Marshal(protocol.ReadMarker{Type: protocol.TypeRead, UserID: fc.user, ID: req.ID})
		for _, o := range others {
			o.write(frame)
		}
	}
}

// readSignals lists the read frames received, as "read alice 3".
func (f *fakeRoom) readSignals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.signals {
		if strings.HasPrefix(s, "read ") {
			out = append(out, s)
		}
	}
	return out
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
	if until, banned := f.bans[req.UserID]; banned {
		f.mu.Unlock()
		fc.write(protocol.Marshal(protocol.ModerationError{Type: protocol.TypeError, Code: protocol.CodeBanned, Message: "you are banned", Until: &protocol.Until{At: until}}))
		fc.ws.Close(protocol.CloseModerated, "banned")
		return
	}
	if req.HasSince && req.Since > f.last {
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
	var changes []protocol.Raw
	truncated := false
	if req.HasSince && !f.ignoreSince {
		for _, c := range f.changes {
			if c.pos > req.Since && c.messageID <= req.Since {
				changes = append(changes, protocol.Raw(c.frame))
			}
		}
		i, _ := slices.BinarySearchFunc(f.msgs, req.Since+1, func(m protocol.StoredMessage, id int64) int { return int(m.ID - id) })
		hist = f.msgs[i:]
		if len(hist) > f.resumeMax {
			hist, truncated = hist[:f.resumeMax], true
		}
	} else {
		hist = f.msgs[max(0, len(f.msgs)-50):]
		truncated = len(f.msgs) > 50
	}
	hist = slices.Clone(hist)
	slow := f.slow
	var readState []byte
	if !f.noReadState {
		st := protocol.ReadState{Type: protocol.TypeReadState, LastRead: f.reads[fc.user]}
		for _, m := range f.msgs {
			if m.ID > st.LastRead {
				st.Unread++
			}
		}
		if st.Unread > protocol.MaxUnread {
			st.Unread, st.Capped = protocol.MaxUnread, true
		}
		readState = protocol.Marshal(st)
	}
	gate := f.readStateGate
	f.change()
	fc.wmu.Lock()
	f.mu.Unlock()
	joined := protocol.Marshal(protocol.UserJoined{Type: protocol.TypeUserJoined, UserID: fc.user, Timestamp: protocol.Timestamp(time.Now())})
	fc.send(joined)
	fc.send(protocol.Marshal(protocol.Presence{Type: protocol.TypePresence, Users: users}))
	if slow != 0 {
		fc.send(protocol.Marshal(protocol.RoomSettings{Type: protocol.TypeRoomSettings, SlowModeSeconds: slow}))
	}
	fc.send(protocol.Marshal(protocol.History{Type: protocol.TypeHistory, Messages: append([]protocol.StoredMessage{}, hist...), Truncated: truncated, Changes: changes}))
	if readState != nil {
		if gate != nil {
			<-gate
		}
		fc.send(readState)
	}
	fc.wmu.Unlock()
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
		f.order.Lock()
		defer f.order.Unlock()
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
	f.order.Lock()
	defer f.order.Unlock()
	f.mu.Lock()
	if until, muted := f.mutes[fc.user]; muted {
		f.mu.Unlock()
		fc.write(protocol.Marshal(protocol.ModerationError{Type: protocol.TypeError, Code: protocol.CodeMuted, Message: "you are muted", Until: &protocol.Until{At: until}}))
		return
	}
	if last, ok := f.lastPost[fc.user]; ok && f.slow > 0 && !f.mods[fc.user] {
		if wait := time.Until(last.Add(time.Duration(f.slow) * time.Second)); wait > 0 {
			f.mu.Unlock()
			fc.write(protocol.Marshal(protocol.ModerationError{Type: protocol.TypeError, Code: protocol.CodeSlowMode, Message: "slow mode", RetryAfterMs: wait.Milliseconds() + 1}))
			return
		}
	}
	m := f.store(fc.user, text)
	targets := f.joined(nil)
	f.mu.Unlock()
	f.broadcast(targets, m)
}

// serveAPI answers GET /api/rooms/{room} and /api/rooms/{room}/messages.
func (f *fakeRoom) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	f.order.Lock()
	defer f.order.Unlock()
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
		reads := map[string]int64{}
		for _, o := range f.joined(nil) {
			users = append(users, o.user)
			reads[o.user] = f.reads[o.user]
		}
		w.Write(protocol.Marshal(protocol.RoomInfo{Room: room, Users: users, Connections: len(f.conns), LastMessageID: f.last, Reads: reads}))
	case "messages":
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil {
			limit = 50
		}
		if int64(since) > f.last {
			w.WriteHeader(400)
			w.Write(protocol.Marshal(protocol.HTTPError{Error: protocol.CodeInvalidSince, Message: "ahead"}))
			return
		}
		i, _ := slices.BinarySearchFunc(f.msgs, int64(since)+1, func(m protocol.StoredMessage, id int64) int { return int(m.ID - id) })
		page := f.msgs[i:]
		truncated := len(page) > limit
		page = page[:min(limit, len(page))]
		w.Write(protocol.Marshal(protocol.MessagesPage{Room: room, Messages: slices.Clone(page), Truncated: truncated}))
	default:
		http.NotFound(w, r)
	}
}

// apply carries out a change from a user with no socket, as do does under
// the room's lock, and tells every joined socket.
func (f *fakeRoom) apply(t testing.TB, do func(f *fakeRoom) ([]byte, string)) {
	t.Helper()
	f.mu.Lock()
	frame, code := do(f)
	targets := f.joined(nil)
	f.mu.Unlock()
	if code != "" {
		t.Fatalf("fake room: %s", code)
	}
	for _, o := range targets {
		o.write(frame)
	}
}

// countFrames counts the frames of type typ received.
func (f *fakeRoom) countFrames(typ string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return count(f.frames, typ)
}
