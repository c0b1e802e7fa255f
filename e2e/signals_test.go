package e2e

// Tests of the live signals (issue 13) against wrangler dev: typing, read
// markers and the read state, reactions, and that none of them keeps an idle
// room from hibernating. The helpers of this file are named live* so as not
// to clash with those of the other files.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom/gochat/internal/devserver"
	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
)

// liveTypingInterval is TYPING_INTERVAL_SECONDS as wrangler.toml sets it for
// the dev server, and as the test config leaves it (the default).
const liveTypingInterval = 2 * time.Second

// The room's constants the tests rely on.
const (
	liveCoalesce     = room.ReadCoalesce // a read marker goes out at most once a second
	liveMaxReactions = room.MaxReactions // distinct emoji on one message
)

// liveHistory is a history frame.
type liveHistory struct {
	Messages  []protocol.StoredMessage `json:"messages"`
	Truncated bool                     `json:"truncated"`
	Changes   []json.RawMessage        `json:"changes"`
	raw       string
}

// liveWelcome is what a socket receives for its own join: the history
// frame, and the read_state frame as received.
type liveWelcome struct {
	history  liveHistory
	stateRaw string
}

// liveJoin connects to room as user in open mode and joins.
func liveJoin(t *testing.T, srv *server, room, user string) (*client, liveWelcome) {
	t.Helper()
	c := dial(t, srv, "/api/chat/"+room, user)
	c.send(`{"type":"join","userId":` + liveQ(user) + `}`)
	return c, c.liveWelcome(user)
}

// liveResume is liveJoin with since: a client coming back.
func liveResume(t *testing.T, srv *server, room, user string, since int64) (*client, liveWelcome) {
	t.Helper()
	c := dial(t, srv, "/api/chat/"+room, user)
	c.send(fmt.Sprintf(`{"type":"join","userId":%s,"since":%d}`, liveQ(user), since))
	return c, c.liveWelcome(user)
}

// liveWelcome reads user_joined, the roster, the history and the read
// state, in that order.
func (c *client) liveWelcome(user string) liveWelcome {
	c.t.Helper()
	c.expect(joinedT(user))
	var w liveWelcome
	var p protocol.Presence
	if f := c.next(); json.Unmarshal([]byte(f.data), &p) != nil || p.Type != protocol.TypePresence {
		c.t.Fatalf("%s: got %s, want the presence roster", c.name, f.data)
	}
	f := c.next()
	var typ struct{ Type string }
	if json.Unmarshal([]byte(f.data), &typ) != nil || typ.Type != protocol.TypeHistory ||
		json.Unmarshal([]byte(f.data), &w.history) != nil || w.history.Messages == nil {
		c.t.Fatalf("%s: got %s, want the history frame", c.name, f.data)
	}
	w.history.raw = f.data
	f = c.next()
	var st protocol.ReadState
	if json.Unmarshal([]byte(f.data), &st) != nil || st.Type != protocol.TypeReadState {
		c.t.Fatalf("%s: got %s, want read_state right after the history", c.name, f.data)
	}
	w.stateRaw = f.data
	return w
}

// liveQ is s as a JSON string.
func liveQ(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func liveTyping(u string) string { return `{"type":"typing","userId":` + liveQ(u) + `}` }

func liveRead(u string, id int64) string {
	return fmt.Sprintf(`{"type":"read","userId":%s,"id":%d}`, liveQ(u), id)
}

func liveReadState(last, unread int64) string {
	return fmt.Sprintf(`{"type":"read_state","lastRead":%d,"unread":%d}`, last, unread)
}

// liveReaction is a reaction frame's template; a pos of 0 stands for any.
func liveReaction(pos, msg int64, emoji, u string, added bool) string {
	p := `"#"`
	if pos > 0 {
		p = fmt.Sprint(pos)
	}
	return fmt.Sprintf(`{"type":"reaction","id":%s,"messageId":%d,"emoji":%s,"userId":%s,"added":%v}`, p, msg, liveQ(emoji), liveQ(u), added)
}

func liveReact(id int64, emoji string) string {
	return fmt.Sprintf(`{"type":"react","id":%d,"emoji":%s}`, id, liveQ(emoji))
}

func liveReadFrame(id int64) string { return fmt.Sprintf(`{"type":"read","id":%d}`, id) }

func liveMessage(text string) string { return `{"type":"message","text":` + liveQ(text) + `}` }

// livePremise fails a check that something did NOT happen within a window
// the server's rules set (the typing interval, the read markers' second),
// unless the window had passed by then on this machine (steps that take
// milliseconds took longer): the rule allowed the frame then, and the test is
// skipped, saying so, instead of failed.
func livePremise(t *testing.T, start time.Time, window time.Duration, format string, args ...any) {
	t.Helper()
	if took := time.Since(start); took >= window {
		t.Skipf("too slow to check this: %v passed, the check needs it within %v: "+format, append([]any{took, window}, args...)...)
	}
	t.Fatalf(format, args...)
}

// liveExpectWithin is expect for frames whose order only holds while the
// window that began at start lasts (see livePremise).
func (c *client) liveExpectWithin(start time.Time, window time.Duration, templates ...string) {
	c.t.Helper()
	for _, tmpl := range templates {
		f := c.next()
		if err := match(tmpl, f.data); err != nil {
			livePremise(c.t, start, window, "%s: got %s\n  want %s\n  %v", c.name, f.data, tmpl, err)
		}
	}
}

// liveSkipping is expect passing over frames that match skip (an event
// whose moment the test cannot pin down); it says how many it passed over.
func (c *client) liveSkipping(skip string, templates ...string) int {
	c.t.Helper()
	skipped := 0
	for _, tmpl := range templates {
		for {
			f := c.next()
			if match(skip, f.data) == nil {
				skipped++
				continue
			}
			if err := match(tmpl, f.data); err != nil {
				c.t.Fatalf("%s: got %s\n  want %s\n  %v", c.name, f.data, tmpl, err)
			}
			break
		}
	}
	return skipped
}

// liveQuietSkipping is quiet, passing over frames that match skip; it says
// how many it passed over.
func (c *client) liveQuietSkipping(skip string) int {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"type":"ping","barrier":%d}`, barriers.Add(1)))
	return c.liveSkipping(skip, `{"type":"pong"}`)
}

// liveAll expects the same frames on every client.
func liveAll(cs []*client, templates ...string) {
	for _, c := range cs {
		c.t.Helper()
		c.expect(templates...)
	}
}

// livePost has c send a message that every client in cs (c among them)
// receives, and returns its id.
func livePost(c *client, cs []*client, text string) int64 {
	c.t.Helper()
	c.send(liveMessage(text))
	var id int64
	for _, o := range cs {
		m := o.nextMessage()
		if m.Text != text || m.UserID != c.name {
			c.t.Fatalf("%s: got message %+v, want %q from %s", o.name, m, text, c.name)
		}
		id = m.ID
	}
	return id
}

// liveToggle has c react to message id with emoji, checks that every client
// in cs (c among them) gets the same reaction frame, and returns it.
func liveToggle(c *client, cs []*client, id int64, emoji string, added bool) string {
	c.t.Helper()
	c.send(liveReact(id, emoji))
	want := liveReaction(0, id, emoji, c.name, added)
	var frame string
	for i, o := range cs {
		f := o.next()
		if err := match(want, f.data); err != nil {
			c.t.Fatalf("%s: got %s\n  want %s\n  %v", o.name, f.data, want, err)
		}
		if i > 0 && f.data != frame {
			c.t.Fatalf("%s got %s, %s got %s", cs[0].name, frame, o.name, f.data)
		}
		frame = f.data
	}
	return frame
}

// liveInfoBody is the body of GET /api/rooms/{room}.
type liveInfoBody struct {
	Users []string
	Reads map[string]int64
	raw   string
}

// liveInfo is GET /api/rooms/{room}.
func liveInfo(t *testing.T, srv *server, room string) liveInfoBody {
	t.Helper()
	status, body, _ := get(t, srv.HTTP+"/api/rooms/"+room, nil)
	var info liveInfoBody
	if status != 200 || json.Unmarshal([]byte(body), &info) != nil {
		t.Fatalf("GET /api/rooms/%s: %d %s", room, status, body)
	}
	info.raw = body
	return info
}

// liveMessagesAPI is GET /api/rooms/{room}/messages: the page, and each
// message as a map, to tell an absent key from an empty one.
func liveMessagesAPI(t *testing.T, srv *server, room string) ([]protocol.StoredMessage, []map[string]any) {
	t.Helper()
	status, body, _ := get(t, srv.HTTP+"/api/rooms/"+room+"/messages", nil)
	var page protocol.MessagesPage
	var raw struct{ Messages []map[string]any }
	if status != 200 || json.Unmarshal([]byte(body), &page) != nil || json.Unmarshal([]byte(body), &raw) != nil {
		t.Fatalf("GET /api/rooms/%s/messages: %d %s", room, status, body)
	}
	return page.Messages, raw.Messages
}

// liveRawMessages is a history frame's messages as maps.
func liveRawMessages(t *testing.T, h liveHistory) []map[string]any {
	t.Helper()
	var raw struct{ Messages []map[string]any }
	if err := json.Unmarshal([]byte(h.raw), &raw); err != nil {
		t.Fatal(err)
	}
	return raw.Messages
}

func liveIDs(ms []protocol.StoredMessage) []int64 {
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

// liveSameFrames compares frames as JSON values (storage may re-encode them).
func liveSameFrames(t *testing.T, got []json.RawMessage, want []string) bool {
	t.Helper()
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		var g, w any
		if json.Unmarshal(got[i], &g) != nil || json.Unmarshal([]byte(want[i]), &w) != nil || !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

// TestSignalsTyping: typing reaches the other users' sockets, never any of
// the typer's own tabs; one a user per interval,
// the rest dropped without an error; a message ends the throttle; each user
// has a throttle of their own; and typing is never stored. "Nothing arrived"
// is proved by a frame that everyone receives after it (a reaction, which
// does not end the throttle, or a message, which does).
func TestSignalsTyping(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	a1, _ := liveJoin(t, dev, room, "alice")
	b, _ := liveJoin(t, dev, room, "bob")
	a1.expect(joinedT("bob"))
	c, _ := liveJoin(t, dev, room, "carol")
	a1.expect(joinedT("carol"))
	b.expect(joinedT("carol"))
	a2, _ := liveJoin(t, dev, room, "alice") // alice's second tab: announced to nobody
	all := []*client{a1, a2, b, c}
	hello := livePost(b, all, "hello")

	lurker := dial(t, dev, "/api/chat/"+room, "lurker")
	lurker.send(`{"type":"typing"}`)
	lurker.expect(errT("not_joined"))

	// The other users hear it; alice's tabs do not: their own pongs come
	// first.
	start := time.Now()
	a1.send(`{"type":"typing"}`)
	liveAll([]*client{b, c}, liveTyping("alice"))
	a1.quiet()
	a2.quiet()

	// Within the interval a second one, from either tab, is dropped without
	// an error: the reaction after them is everyone's next frame.
	a2.send(`{"type":"typing"}`)
	a2.quiet() // processed before a1's below
	a1.send(`{"type":"typing"}`)
	a1.send(liveReact(hello, "👍"))
	for _, o := range all {
		o.liveExpectWithin(start, liveTypingInterval, liveReaction(hello+1, hello, "👍", "alice", true))
	}

	// Each user has a throttle of their own: bob's goes out while alice's
	// holds.
	b.send(`{"type":"typing"}`)
	liveAll([]*client{a1, a2, c}, liveTyping("bob"))
	b.quiet()

	// A message ends alice's throttle: her next typing goes out at once.
	restarted := time.Now() // before the server took her typing below
	a1.send(liveMessage("hi"))
	a1.send(`{"type":"typing"}`)
	liveAll([]*client{b, c}, msgT("alice", "hi"), liveTyping("alice"))
	liveAll([]*client{a1, a2}, msgT("alice", "hi"))
	a1.quiet()
	a2.quiet()
	forwarded := time.Now() // after the server took it

	// Which starts the interval again: the next is dropped...
	a1.send(`{"type":"typing"}`)
	a1.send(liveReact(hello, "🎉"))
	for _, o := range all {
		o.liveExpectWithin(restarted, liveTypingInterval, liveReaction(0, hello, "🎉", "alice", true))
	}
	// ...but once it has passed, the next goes out.
	ctx, cancel := context.WithDeadline(context.Background(), forwarded.Add(liveTypingInterval+200*time.Millisecond))
	<-ctx.Done()
	cancel()
	a1.send(`{"type":"typing"}`)
	a1.send(liveReact(hello, "🎉"))
	liveAll([]*client{b, c}, liveTyping("alice"), liveReaction(0, hello, "🎉", "alice", false))
	liveAll([]*client{a1, a2}, liveReaction(0, hello, "🎉", "alice", false))

	// Typing is never stored: a joiner's history holds the messages alone,
	// and a resume from the first message the three reactions to it alone.
	_, d := liveJoin(t, dev, room, "dave")
	liveAll(all, joinedT("dave"))
	if texts := fmt.Sprint(liveTexts(d.history.Messages)); texts != "[hello hi]" {
		t.Errorf("a joiner's history holds %s, want [hello hi]", texts)
	}
	_, r := liveResume(t, dev, room, "rita", hello)
	liveAll(all, joinedT("rita"))
	kinds := ""
	for _, ch := range r.history.Changes {
		var f struct{ Type string }
		json.Unmarshal(ch, &f)
		kinds += f.Type + " "
	}
	if kinds != "reaction reaction reaction " || fmt.Sprint(liveTexts(r.history.Messages)) != "[hi]" {
		t.Errorf("a resume from the first message got %s, want hi and the three reactions", r.history.raw)
	}
	for _, o := range all {
		o.quiet()
	}
}

func liveTexts(ms []protocol.StoredMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// TestSignalsReadMarkers: a read marker goes to the user's other sockets at
// once, or coalesced to one a second (the alarm sends the latest), to the
// other users and never to the reader's own tabs; it moves forward only; an id ahead of the room is
// refused; GET /api/rooms/{room} lists every present user's position; a
// joining socket learns its user's.
func TestSignalsReadMarkers(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	a1, _ := liveJoin(t, dev, room, "alice")
	a2, _ := liveJoin(t, dev, room, "alice")
	b, _ := liveJoin(t, dev, room, "bob")
	a1.expect(joinedT("bob"))
	a2.expect(joinedT("bob"))
	all := []*client{a1, a2, b}

	lurker := dial(t, dev, "/api/chat/"+room, "lurker")
	lurker.send(liveReadFrame(1))
	lurker.expect(errT("not_joined"))

	var ids []int64
	for i := 1; i <= 5; i++ {
		ids = append(ids, livePost(b, all, fmt.Sprintf("m%d", i)))
	}
	// Ahead of the room's last position, or no id: invalid_id, to the
	// sender alone.
	for _, bad := range []string{liveReadFrame(ids[4] + 1), `{"type":"read"}`, `{"type":"read","id":"2"}`} {
		a1.send(bad)
		a1.expect(errT("invalid_id"))
	}

	// The first marker goes out at once, to bob; not to alice's tabs.
	start := time.Now()
	a1.send(liveReadFrame(ids[1]))
	b.expect(liveRead("alice", ids[1]))
	a1.quiet()
	a2.quiet()

	// Within the second, newer markers wait; the message after them is
	// everyone's next frame...
	a1.send(liveReadFrame(ids[2]))
	a1.quiet() // processed before a2's below
	a2.send(liveReadFrame(ids[3]))
	a2.send(liveMessage("seen"))
	for _, o := range all {
		o.liveExpectWithin(start, liveCoalesce, msgT("alice", "seen"))
	}
	// ...and the alarm sends the latest once the second has passed: to
	// bob, not to alice's tabs.
	b.expect(liveRead("alice", ids[3]))
	a2.quiet()
	a1.quiet()
	b.quiet()

	// Only forward: an older id and the same one are no news, for anyone,
	// the sender included (no error).
	a1.send(liveReadFrame(ids[0]))
	a1.send(liveReadFrame(ids[3]))
	a1.quiet()
	last := livePost(a1, all, "barrier")
	if info := liveInfo(t, dev, room); !reflect.DeepEqual(info.Reads, map[string]int64{"alice": ids[3], "bob": 0}) {
		t.Errorf("GET reads %v (%s), want alice %d and bob 0", info.Reads, info.raw, ids[3])
	}

	// Bob's first marker goes out at once too.
	b.send(liveReadFrame(last))
	liveAll([]*client{a1, a2}, liveRead("bob", last))
	b.quiet()
	info := liveInfo(t, dev, room)
	if !reflect.DeepEqual(info.Reads, map[string]int64{"alice": ids[3], "bob": last}) || fmt.Sprint(info.Users) != "[alice bob]" {
		t.Errorf("GET %s, want reads alice %d and bob %d", info.raw, ids[3], last)
	}

	// A new tab learns its user's position and how many messages follow it:
	// m5, seen and barrier.
	if _, w := liveJoin(t, dev, room, "alice"); w.stateRaw != liveReadState(ids[3], 3) {
		t.Errorf("alice's new tab got %s, want %s", w.stateRaw, liveReadState(ids[3], 3))
	}
	if _, w := liveJoin(t, dev, room, "bob"); w.stateRaw != liveReadState(last, 0) {
		t.Errorf("bob's new tab got %s, want %s", w.stateRaw, liveReadState(last, 0))
	}
	// Carol has read nothing: every message is unread (they are all the
	// room's positions).
	if _, w := liveJoin(t, dev, room, "carol"); w.stateRaw != liveReadState(0, last) {
		t.Errorf("carol got %s, want %s", w.stateRaw, liveReadState(0, last))
	}
	liveAll(all, joinedT("carol"))
	if info := liveInfo(t, dev, room); !reflect.DeepEqual(info.Reads, map[string]int64{"alice": ids[3], "bob": last, "carol": 0}) {
		t.Errorf("GET %s, want carol at 0 too", info.raw)
	}
	for _, o := range all {
		o.quiet()
	}
}

// TestSignalsAlarmReadAfterEvictionReachesANewcomer: a read marker waiting
// for the alarm goes to every other user's socket. Here the reader's
// socket has closed, the room is evicted, and a newcomer joins before the
// alarm: the newcomer must get it too.
// After a rebuild the room numbers new sockets from the highest session id
// still open, so the newcomer takes the departed setter's id: the marker
// must still reach it (a bug found here, fixed in flushReads).
func TestSignalsAlarmReadAfterEvictionReachesANewcomer(t *testing.T) {
	t.Parallel()
	srv := communityServer(t) // its tests evict on purpose: one more does no harm
	room := uniqueRoom(t)
	b := withRole(t, srv, room, "bob", "member")   // sid 1
	a := withRole(t, srv, room, "alice", "member") // sid 2
	b.expect(joinedT("alice"))
	m1 := livePost(b, []*client{a, b}, "one")
	m2 := livePost(b, []*client{a, b}, "two")
	a.send(liveReadFrame(m1))
	b.expect(liveRead("alice", m1))
	start := time.Now()
	a.send(liveReadFrame(m2)) // within the second: waits for the alarm
	a.quiet()
	a.drop()
	b.expect(leftT("alice"))
	evictOn(t, srv)
	c := withRole(t, srv, room, "carol", "member") // sid 2 again, in the new life
	b.liveExpectWithin(start, liveCoalesce, joinedT("carol"))
	b.expect(liveRead("alice", m2))
	// The alarm ran after carol joined: she is a member the setter is not.
	c.send(fmt.Sprintf(`{"type":"ping","barrier":%d}`, barriers.Add(1)))
	if f := c.next(); match(liveRead("alice", m2), f.data) != nil {
		t.Fatalf("carol got %s, want %s first (the alarm's marker, which bob got after her join)", f.data, liveRead("alice", m2))
	}
	c.expect(`{"type":"pong"}`)
}

// TestSignalsUnreadAfterResume: a reader reads up to N, drops, more happens
// (messages, a reaction, a deletion), and comes back with since: the history
// holds what followed since, and read_state her position and the stored
// messages after it.
func TestSignalsUnreadAfterResume(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	w, _ := liveJoin(t, dev, room, "wendy")
	r, _ := liveJoin(t, dev, room, "rita")
	w.expect(joinedT("rita"))
	var ids []int64
	for i := 1; i <= 5; i++ {
		ids = append(ids, livePost(w, []*client{w, r}, fmt.Sprintf("m%d", i)))
	}
	r.send(liveReadFrame(ids[2]))
	w.expect(liveRead("rita", ids[2]))
	r.quiet()
	since := ids[4] // the last she saw: more than she read
	r.drop()
	w.expect(leftT("rita"))

	// While she is away: messages, a reaction to one she saw, a deletion.
	me := []*client{w}
	m6, m7, m8 := livePost(w, me, "m6"), livePost(w, me, "m7"), livePost(w, me, "m8")
	reaction := liveToggle(w, me, ids[1], "👍", true)
	m9 := livePost(w, me, "m9")
	w.send(fmt.Sprintf(`{"type":"delete","id":%d}`, m7))
	w.expect(fmt.Sprintf(`{"type":"message_deleted","id":"#","messageId":%d,"by":"wendy","timestamp":"*"}`, m7))

	r2, back := liveResume(t, dev, room, "rita", since)
	w.expect(joinedT("rita"))
	if got, want := fmt.Sprint(liveIDs(back.history.Messages)), fmt.Sprint([]int64{m6, m8, m9}); got != want || back.history.Truncated {
		t.Errorf("resumed history %s, want messages %s", back.history.raw, want)
	}
	if !liveSameFrames(t, back.history.Changes, []string{reaction}) {
		t.Errorf("resumed changes %s, want the reaction %s alone", back.history.raw, reaction)
	}
	// Unread: m4, m5, m6, m8 and m9; not the reaction, not the deleted m7.
	if want := liveReadState(ids[2], 5); back.stateRaw != want {
		t.Errorf("read_state after the resume %s, want %s", back.stateRaw, want)
	}

	// Reading on moves it (at once or by the alarm: the last marker was
	// recent), and a new tab learns it.
	r2.send(liveReadFrame(m9))
	w.expect(liveRead("rita", m9))
	r2.quiet()
	if _, again := liveJoin(t, dev, room, "rita"); again.stateRaw != liveReadState(m9, 0) {
		t.Errorf("rita's new tab %s, want %s", again.stateRaw, liveReadState(m9, 0))
	}
	w.quiet()
}

// TestSignalsUnreadBeyondTheHistoryWindow: in a room with more messages than
// a join's history holds (HISTORY_ON_JOIN, 50), the unread count is still
// every stored message after the read position, whether the room counts it
// in the history it just sent (a resume whose history holds every message
// after since, from a position at or after since) or asks storage. It runs
// on the evict server, whose message rate limit is out of the way.
func TestSignalsUnreadBeyondTheHistoryWindow(t *testing.T) {
	t.Parallel()
	const total = 70
	room := uniqueRoom(t)
	w := dial(t, evict, "/api/chat/"+room, "wendy")
	w.send(`{"type":"join","userId":"wendy"}`)
	w.liveWelcome("wendy")
	for i := 1; i <= total; i++ {
		w.send(liveMessage(fmt.Sprintf("m%d", i)))
	}
	var last int64
	for i := 1; i <= total; i++ {
		last = w.nextMessage().ID
	}
	if last != total {
		t.Fatalf("the last message is %d, want %d", last, total)
	}
	state := func(what string, since int64, want string) {
		t.Helper()
		var got liveWelcome
		if since > 0 {
			_, got = liveResume(t, evict, room, "rita", since)
		} else {
			_, got = liveJoin(t, evict, room, "rita")
		}
		if got.stateRaw != want {
			t.Errorf("%s: read_state %s, want %s (history of %d messages, truncated %v)", what, got.stateRaw, want, len(got.history.Messages), got.history.Truncated)
		}
	}
	state("nothing read", 0, liveReadState(0, total))
	r, _ := liveJoin(t, evict, room, "rita")
	r.send(liveReadFrame(10))
	r.quiet()
	state("read 10", 0, liveReadState(10, total-10))
	state("read 10, resuming from 5", 5, liveReadState(10, total-10))
	r.send(liveReadFrame(40))
	r.quiet()
	state("read 40", 0, liveReadState(40, total-40))
	state("read 40, resuming from 30", 30, liveReadState(40, total-40))
	state("read 40, resuming from 45", 45, liveReadState(40, total-40))
	state("read 40, resuming from the last", last, liveReadState(40, total-40))
}

// liveRow is one reaction as the room stores it.
type liveRow struct{ emoji, user string }

// liveSummaries derives the reactions of a message from its reaction rows,
// in the order they were added: each emoji once, in the order first used
// by the rows that remain, with its count and its first users.
func liveSummaries(rows []liveRow) []protocol.ReactionSummary {
	var out []protocol.ReactionSummary
	at := map[string]int{}
	for _, r := range rows {
		i, ok := at[r.emoji]
		if !ok {
			i = len(out)
			at[r.emoji] = i
			out = append(out, protocol.ReactionSummary{Emoji: r.emoji, Users: []string{}})
		}
		out[i].Count++
		if len(out[i].Users) < protocol.ReactionUsers {
			out[i].Users = append(out[i].Users, r.user)
		}
	}
	return out
}

// TestSignalsConcurrentReactions: five users toggle reactions on one message
// at once, some twice. Everyone sees the same sequence of reaction frames, at
// consecutive positions, each consistent with the ones before it (added when
// the user had not reacted with that emoji, removed when they had), and the
// summaries derived from them are what a fresh join's history and the
// messages API carry.
func TestSignalsConcurrentReactions(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	plans := map[string][]string{
		"u0": {"👍"},
		"u1": {"👍", "❤️"},
		"u2": {"👍", "👍"},
		"u3": {"🎉", "👍", "🎉"},
		"u4": {"👍🏽", "👨‍👩‍👧", "👍"},
	}
	users := []string{"u0", "u1", "u2", "u3", "u4"}
	var cs []*client
	for _, u := range users {
		c, _ := liveJoin(t, dev, room, u)
		for _, prev := range cs {
			prev.expect(joinedT(u))
		}
		cs = append(cs, c)
	}
	target := livePost(cs[0], cs, "react to me")
	plain := livePost(cs[1], cs, "leave me be")

	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, len(cs))
	total := 0
	for i, c := range cs {
		plan := plans[users[i]]
		total += len(plan)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			for _, e := range plan {
				if err := c.conn.Write(ctx, websocket.MessageText, []byte(liveReact(target, e))); err != nil {
					errs <- fmt.Errorf("%s: %v", c.name, err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var seq []string
	for i, c := range cs {
		var got []string
		for len(got) < total {
			got = append(got, c.next().data)
		}
		if i == 0 {
			seq = got
		} else if !slices.Equal(got, seq) {
			t.Fatalf("%s saw\n  %q\n%s saw\n  %q", c.name, got, cs[0].name, seq)
		}
	}
	for _, c := range cs {
		c.quiet()
	}

	var rows []liveRow
	var order []string // the toggles as the room took them, for the log
	mine := map[string][]string{}
	for k, f := range seq {
		var r protocol.Reaction
		if err := json.Unmarshal([]byte(f), &r); err != nil {
			t.Fatalf("frame %d: %s: %v", k, f, err)
		}
		i := slices.Index(rows, liveRow{r.Emoji, r.UserID})
		if err := match(liveReaction(plain+1+int64(k), target, r.Emoji, r.UserID, i < 0), f); err != nil {
			t.Fatalf("frame %d of %q: %v", k, seq, err)
		}
		if i < 0 {
			rows = append(rows, liveRow{r.Emoji, r.UserID})
		} else {
			rows = slices.Delete(rows, i, i+1)
		}
		mine[r.UserID] = append(mine[r.UserID], r.Emoji)
		order = append(order, fmt.Sprintf("%s%s%s", r.UserID, map[bool]string{true: "+", false: "-"}[r.Added], r.Emoji))
	}
	for _, u := range users {
		if !slices.Equal(mine[u], plans[u]) {
			t.Errorf("%s's toggles went out as %q, sent %q", u, mine[u], plans[u])
		}
	}
	want := liveSummaries(rows)
	t.Logf("the room took the toggles as %v; summary %+v", order, want)

	// A fresh join's history and the messages API carry the same summaries,
	// and no reactions key on the message without any.
	_, x := liveJoin(t, dev, room, "x")
	apiMsgs, apiRaw := liveMessagesAPI(t, dev, room)
	for name, msgs := range map[string][]protocol.StoredMessage{"history": x.history.Messages, "messages API": apiMsgs} {
		if len(msgs) != 2 || msgs[0].ID != target || msgs[1].ID != plain {
			t.Fatalf("%s: %+v, want the two messages", name, msgs)
		}
		if !reflect.DeepEqual(msgs[0].Reactions, want) {
			t.Errorf("%s: reactions %+v, want %+v (from the frames)", name, msgs[0].Reactions, want)
		}
	}
	for name, raw := range map[string][]map[string]any{"history": liveRawMessages(t, x.history), "messages API": apiRaw} {
		if _, ok := raw[1]["reactions"]; ok {
			t.Errorf("%s: a message without reactions has %v", name, raw[1])
		}
	}
}

// TestSignalsReactionRules: invalid emoji, unknown messages, the 21st
// distinct emoji on a message, and a deleted message taking its reactions
// with it.
func TestSignalsReactionRules(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	var cs []*client
	for _, u := range users {
		c, _ := liveJoin(t, dev, room, u)
		for _, prev := range cs {
			prev.expect(joinedT(u))
		}
		cs = append(cs, c)
	}
	a, b := cs[0], cs[1]
	m1 := livePost(a, cs, "one")

	lurker := dial(t, dev, "/api/chat/"+room, "lurker")
	lurker.send(liveReact(m1, "👍"))
	lurker.expect(errT("not_joined"))
	for _, bad := range []struct{ frame, code string }{
		{liveReact(m1, "ok"), "invalid_reaction"},
		{liveReact(m1, "👍👍"), "invalid_reaction"},
		{liveReact(m1, ""), "invalid_reaction"},
		{fmt.Sprintf(`{"type":"react","id":%d}`, m1), "invalid_reaction"},
		{`{"type":"react","emoji":"👍"}`, "invalid_id"},
		{liveReact(m1+1000, "👍"), "not_found"},
	} {
		a.send(bad.frame)
		a.expect(errT(bad.code))
	}

	// Twenty distinct emoji fit on a message (four from each user, within
	// their message rate limit); the 21st does not, but one already there
	// still toggles.
	emoji := []string{"😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "🇫🇷", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "👩🏽‍💻"}
	if len(emoji) != liveMaxReactions {
		t.Fatalf("%d emoji, want %d", len(emoji), liveMaxReactions)
	}
	for i, e := range emoji {
		liveToggle(cs[i%len(cs)], cs, m1, e, true)
	}
	b.send(liveReact(m1, "🤗"))
	b.expect(errT("too_many_reactions"))
	toggled := liveToggle(b, cs, m1, emoji[0], true)
	var r protocol.Reaction
	json.Unmarshal([]byte(toggled), &r)
	msgs, _ := liveMessagesAPI(t, dev, room)
	if len(msgs) != 1 || len(msgs[0].Reactions) != liveMaxReactions || msgs[0].Reactions[0].Count != 2 ||
		fmt.Sprint(msgs[0].Reactions[0].Users) != "[alice bob]" {
		t.Errorf("messages API: %+v", msgs)
	}

	// A deleted message takes its reactions with it: a resume from it gets
	// the deletion alone, and a reaction to it is not_found.
	a.send(fmt.Sprintf(`{"type":"delete","id":%d}`, m1))
	del := fmt.Sprintf(`{"type":"message_deleted","id":%d,"messageId":%d,"by":"alice","timestamp":"*"}`, r.ID+1, m1)
	liveAll(cs, del)
	_, back := liveResume(t, dev, room, "rita", m1)
	liveAll(cs, joinedT("rita"))
	if len(back.history.Messages) != 0 || len(back.history.Changes) != 1 || match(del, string(back.history.Changes[0])) != nil {
		t.Errorf("a resume from the deleted message got %s, want the deletion alone", back.history.raw)
	}
	a.send(liveReact(m1, "👍"))
	a.expect(errT("not_found"))
	if msgs, _ := liveMessagesAPI(t, dev, room); len(msgs) != 0 {
		t.Errorf("messages API after the deletion: %+v", msgs)
	}
	for _, c := range cs {
		c.quiet()
	}
}

// TestSignalsReactionsShareTheMessageRateLimit: on the protected server
// (RATE_LIMIT_BURST 10, 5 a second), a reaction draws on its user's message
// rate limit: a burst of toggles gets the burst through and rate_limited for
// each of the rest, and a message right after them shares the same bucket;
// what was refused is neither broadcast nor stored.
func TestSignalsReactionsShareTheMessageRateLimit(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	pat := signedIn(t, "/api/chat/"+room, "pat")
	rex := signedIn(t, "/api/chat/"+room, "rex")
	pat.expect(joinedT("rex"))
	m := livePost(pat, []*client{pat, rex}, "react here")
	// The join, the toggles and the message: 18 frames, within the frame
	// budget's burst of 20, so that the message rate limit alone refuses.
	const n = 16
	start := time.Now()
	for i := 0; i < n; i++ {
		rex.send(liveReact(m, "👍"))
	}
	rex.send(liveMessage("and a word"))
	// Every frame is answered: a reaction (to everyone), the message, or
	// rate_limited (to rex alone), in the order sent.
	var passed []string
	limited, said := 0, false
	for i := 0; i <= n; i++ {
		f := rex.next()
		switch {
		case i < n && match(liveReaction(0, m, "👍", "rex", len(passed)%2 == 0), f.data) == nil:
			passed = append(passed, f.data)
		case i == n && match(msgT("rex", "and a word"), f.data) == nil:
			said = true
		case match(`{"type":"error","code":"rate_limited","message":"*","retryAfterMs":"#"}`, f.data) == nil:
			limited++
		default:
			t.Fatalf("answer %d: got %s", i, f.data)
		}
	}
	if len(passed) < 10 {
		t.Errorf("%d toggles went through, want at least the burst of 10", len(passed))
	}
	if limited == 0 {
		livePremise(t, start, time.Duration(n+1-10)*time.Second/5, "all %d toggles and the message went through, want rate_limited beyond the burst", n)
	}
	// Pat got the toggles that went through, and the message if it did.
	for _, want := range passed {
		if f := pat.next(); f.data != want {
			t.Fatalf("pat got %s, want %s", f.data, want)
		}
	}
	if said {
		pat.expect(msgT("rex", "and a word"))
	}
	pat.quiet()
	// And the room stored what went through: rex's 👍 when an odd number of
	// toggles did.
	status, body, _ := get(t, protected.HTTP+"/api/rooms/"+room+"/messages", map[string]string{"Authorization": "Bearer " + token(t, "pat", time.Hour, testSecret)})
	var page protocol.MessagesPage
	if status != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Messages) < 1 || page.Messages[0].ID != m {
		t.Fatalf("messages: %d %s", status, body)
	}
	var want []protocol.ReactionSummary
	if len(passed)%2 == 1 {
		want = []protocol.ReactionSummary{{Emoji: "👍", Count: 1, Users: []string{"rex"}}}
	}
	if !reflect.DeepEqual(page.Messages[0].Reactions, want) {
		t.Errorf("stored reactions %+v after %d toggles went through, want %+v", page.Messages[0].Reactions, len(passed), want)
	}
	t.Logf("%d toggles went through, %d frames were limited, the message went through: %v", len(passed), limited, said)
}

// TestSignalsResumeAfterReactions: a resume with since gets, in changes, the
// reaction frames after since to messages at or before it (not those it
// saw, not those to later messages), and the later messages carry their
// summaries.
func TestSignalsResumeAfterReactions(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	a, _ := liveJoin(t, dev, room, "alice")
	b, _ := liveJoin(t, dev, room, "bob")
	a.expect(joinedT("bob"))
	r, _ := liveJoin(t, dev, room, "rita")
	liveAll([]*client{a, b}, joinedT("rita"))
	all := []*client{a, b, r}
	m1 := livePost(a, all, "one")
	m2 := livePost(a, all, "two")
	var seen protocol.Reaction
	json.Unmarshal([]byte(liveToggle(b, all, m1, "👍", true)), &seen)
	since := seen.ID // a reaction's position: the last she saw
	r.drop()
	liveAll([]*client{a, b}, leftT("rita"))

	ab := []*client{a, b}
	f1 := liveToggle(a, ab, m1, "❤️", true)
	m3 := livePost(a, ab, "three")
	liveToggle(b, ab, m3, "👍", true)
	f2 := liveToggle(a, ab, m2, "😂", true)
	f3 := liveToggle(b, ab, m1, "👍", false)
	liveToggle(a, ab, m3, "👍", true)

	_, back := liveResume(t, dev, room, "rita", since)
	liveAll(ab, joinedT("rita"))
	m3Reactions := []protocol.ReactionSummary{{Emoji: "👍", Count: 2, Users: []string{"bob", "alice"}}}
	if len(back.history.Messages) != 1 || back.history.Messages[0].ID != m3 || !reflect.DeepEqual(back.history.Messages[0].Reactions, m3Reactions) {
		t.Errorf("resumed messages %s, want m3 with %+v", back.history.raw, m3Reactions)
	}
	if !liveSameFrames(t, back.history.Changes, []string{f1, f2, f3}) {
		t.Errorf("resumed changes %s\n  want %s, %s, %s", back.history.raw, f1, f2, f3)
	}
	if want := liveReadState(0, 3); back.stateRaw != want {
		t.Errorf("read_state %s, want %s", back.stateRaw, want)
	}

	// A fresh join sees the state the changes lead to.
	want := map[int64][]protocol.ReactionSummary{
		m1: {{Emoji: "❤️", Count: 1, Users: []string{"alice"}}},
		m2: {{Emoji: "😂", Count: 1, Users: []string{"alice"}}},
		m3: m3Reactions,
	}
	_, fresh := liveJoin(t, dev, room, "fred")
	liveAll(ab, joinedT("fred"))
	apiMsgs, _ := liveMessagesAPI(t, dev, room)
	for name, msgs := range map[string][]protocol.StoredMessage{"history": fresh.history.Messages, "messages API": apiMsgs} {
		if len(msgs) != 3 {
			t.Errorf("%s: %+v, want three messages", name, msgs)
			continue
		}
		for _, m := range msgs {
			if !reflect.DeepEqual(m.Reactions, want[m.ID]) {
				t.Errorf("%s: message %d has %+v, want %+v", name, m.ID, m.Reactions, want[m.ID])
			}
		}
	}
	a.quiet()
	b.quiet()
}

// TestSignalsHibernationAndRestart runs on a server of its own, so that the
// constructor count is this room's alone.
//
// First, typing leaves nothing running in the room (no timer, no alarm):
// after the clients' typing and a read marker, the room left alone is evicted
// by workerd on its own, as TestNaturalHibernation detects it (the ChatRoom
// constructor runs again when the room is next used), and then still
// forwards typing and knows the read positions.
//
// Then the read positions are in the room's SQLite, across a stop and start
// of wrangler dev with its persisted state, the latest too when it was still
// waiting for the alarm at the stop.
func TestSignalsHibernationAndRestart(t *testing.T) {
	t.Parallel()
	srv := ownServer(t, devserver.Options{Name: "signals", Config: "e2e/wrangler.toml",
		Env: []string{"MINIFLARE_WORKERD_PATH=" + devserver.NextWorkerd(root)}})
	room := uniqueRoom(t)
	a, _ := liveJoin(t, srv, room, "alice")
	b, _ := liveJoin(t, srv, room, "bob")
	a.expect(joinedT("bob"))
	c, _ := liveJoin(t, srv, room, "carol")
	liveAll([]*client{a, b}, joinedT("carol"))
	all := []*client{a, b, c}
	var ids []int64
	for i := 1; i <= 5; i++ {
		ids = append(ids, livePost(b, all, fmt.Sprintf("m%d", i)))
	}
	a.send(liveReadFrame(ids[1])) // her first: at once, nothing left for the alarm
	liveAll([]*client{b, c}, liveRead("alice", ids[1]))
	a.send(`{"type":"typing"}`)
	liveAll([]*client{b, c}, liveTyping("alice"))
	b.send(`{"type":"typing"}`)
	liveAll([]*client{a, c}, liveTyping("bob"))
	a.send(`{"type":"typing"}`) // within the interval: dropped
	a.quiet()
	c.send(`{"type":"typing"}`)
	liveAll([]*client{a, b}, liveTyping("carol"))
	for _, o := range all {
		o.quiet()
	}
	before := constructed(t, srv)

	ctx, cancel := context.WithTimeout(context.Background(), naturalIdle)
	defer cancel()
	<-ctx.Done() // idle on purpose: hibernation needs silence

	a.send(`{"type":"typing"}`)
	liveAll([]*client{b, c}, liveTyping("alice"))
	if after := constructed(t, srv); after == before {
		t.Fatalf("the room was not evicted after %v idle (constructed %d times before and after)", naturalIdle, before)
	}
	// The read positions are intact: for a new tab, the API, and the next
	// marker, which goes out at once (the last was long ago).
	a2, w := liveJoin(t, srv, room, "alice")
	if want := liveReadState(ids[1], 3); w.stateRaw != want {
		t.Errorf("alice's new tab after the eviction: %s, want %s", w.stateRaw, want)
	}
	if info := liveInfo(t, srv, room); !reflect.DeepEqual(info.Reads, map[string]int64{"alice": ids[1], "bob": 0, "carol": 0}) {
		t.Errorf("GET after the eviction %s", info.raw)
	}
	a.send(liveReadFrame(ids[2]))
	liveAll([]*client{b, c}, liveRead("alice", ids[2]))
	a2.quiet()
	// Within the second the next waits for the alarm; the room is evicted
	// meanwhile (forced), and the alarm still sends it, from storage, to
	// the other users.
	a.send(liveReadFrame(ids[3]))
	a.quiet()
	beforeEviction := constructed(t, srv)
	evictOn(t, srv)
	liveAll([]*client{b, c}, liveRead("alice", ids[3]))
	a2.quiet()
	if constructed(t, srv) == beforeEviction {
		// Nothing but the alarm could have woken it: it ran first.
		t.Logf("the alarm ran before the forced eviction: this run did not check an alarm across an eviction")
	}
	a.quiet()

	// The restart: the next marker waits for the alarm, and the server
	// stops right after. The alarm may still run before workerd exits, or
	// not; either way the marker is stored.
	m6 := livePost(b, []*client{a, a2, b, c}, "m6")
	ids = append(ids, m6)
	a.send(liveReadFrame(ids[4]))
	a.quiet()
	srv.Stop()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Should the alarm run after the restart, it announces alice's marker
	// to the other users: their new sockets may see it at any point after their
	// join (a join's frames go out in one event). (In the runs so far it
	// ran before workerd exited.)
	pending := liveRead("alice", ids[4])
	a3, wa := liveJoin(t, srv, room, "alice")
	if want := liveReadState(ids[4], 1); wa.stateRaw != want {
		t.Errorf("alice after the restart: %s, want %s", wa.stateRaw, want)
	}
	if fmt.Sprint(liveIDs(wa.history.Messages)) != fmt.Sprint(ids) {
		t.Errorf("history after the restart %s, want ids %v", wa.history.raw, ids)
	}
	b2, wb := liveJoin(t, srv, room, "bob")
	if want := liveReadState(0, 6); wb.stateRaw != want {
		t.Errorf("bob after the restart: %s, want %s", wb.stateRaw, want)
	}
	skipped := a3.liveSkipping(pending, joinedT("bob"))
	if info := liveInfo(t, srv, room); !reflect.DeepEqual(info.Reads, map[string]int64{"alice": ids[4], "bob": 0}) {
		t.Errorf("GET after the restart %s, want alice %d and bob 0", info.raw, ids[4])
	}
	// It moves on from there, forward only.
	a3.send(liveReadFrame(ids[0]))
	a3.send(liveReadFrame(ids[5]))
	skipped += b2.liveSkipping(pending, liveRead("alice", ids[5]))
	skipped += a3.liveQuietSkipping(pending)
	b2.quiet()
	t.Logf("the marker set just before the stop was announced after the restart %d times", skipped)
	if info := liveInfo(t, srv, room); info.Reads["alice"] != ids[5] {
		t.Errorf("GET %s, want alice at %d", info.raw, ids[5])
	}
}

// TestSignalsLargeRoom runs a server with PRESENCE_BROADCAST_LIMIT=2: once a
// third user joins, typing and read markers go to nobody (as joins and
// leaves do not), reactions still reach everyone, a marker is still stored,
// and GET /api/rooms/{room} leaves the read positions out.
func TestSignalsLargeRoom(t *testing.T) {
	t.Parallel()
	srv := ownServer(t, devserver.Options{Name: "signals-large", Config: "wrangler.toml",
		Args: []string{"--var", "PRESENCE_BROADCAST_LIMIT:2"}})
	room := uniqueRoom(t)
	a, _ := liveJoin(t, srv, room, "alice")
	b, _ := liveJoin(t, srv, room, "bob")
	a.expect(joinedT("bob"))
	summary := `{"type":"presence","users":[],"count":3,"truncated":true}`
	c := dial(t, srv, "/api/chat/"+room, "carol")
	c.send(`{"type":"join","userId":"carol"}`)
	c.expect(joinedT("carol"), summary, `{"type":"history","messages":[]}`, liveReadState(0, 0))
	a.expect(summary)
	b.expect(summary)
	all := []*client{a, b, c}
	hello := livePost(b, all, "hello")
	// Typing and a read marker from alice, then bob's message: everyone's
	// next frame is the message.
	a.send(`{"type":"typing"}`)
	a.send(liveReadFrame(hello))
	a.quiet() // both processed before bob's message
	livePost(b, all, "next")
	// A reaction still reaches everyone.
	liveToggle(a, all, hello, "👍", true)
	if info := liveInfo(t, srv, room); info.Reads != nil || strings.Contains(info.raw, `"reads"`) {
		t.Errorf("GET /api/rooms above the limit: %s", info.raw)
	}
	// The marker was stored: alice's new tab learns it.
	a2 := dial(t, srv, "/api/chat/"+room, "alice")
	a2.send(`{"type":"join","userId":"alice"}`)
	a2.expect(joinedT("alice"), summary)
	if f := a2.next(); !strings.HasPrefix(f.data, `{"type":"history","messages":[`) {
		t.Fatalf("alice's new tab: got %s, want the history", f.data)
	}
	a2.expect(liveReadState(hello, 1))
}
