package room_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

func typingOf(u string) string { return `{"type":"typing","userId":"` + u + `"}` }

func readOf(u string, id int) string {
	return `{"type":"read","userId":"` + u + `","id":` + strconv.Itoa(id) + `}`
}

func reactionOf(pos, id int, emoji, u string, added bool) string {
	return `{"type":"reaction","id":` + strconv.Itoa(pos) + `,"messageId":` + strconv.Itoa(id) + `,"emoji":"` + emoji +
		`","userId":"` + u + `","added":` + strconv.FormatBool(added) + `}`
}

// silent checks that none of ss received anything.
func (e *env) silent(ss ...*fakeSocket) {
	e.t.Helper()
	for _, s := range ss {
		e.expect(s)
	}
}

// trio joins alice (two tabs), bob and carol in open mode, with nothing
// received left over.
func trio(e *env) (a1, a2, b, c *fakeSocket) {
	a1, a2, b, c = e.connect(), e.connect(), e.connect(), e.connect()
	for s, u := range map[*fakeSocket]string{a1: "alice", a2: "alice", b: "bob", c: "carol"} {
		e.send(s, `{"type":"join","userId":"`+u+`"}`)
	}
	takeAll(a1, a2, b, c)
	return
}

// TestTyping runs warm: the throttle is memory of one life of the object
// (an eviction, which needs 10 s without events, outlasts it anyway).
func TestTyping(t *testing.T) {
	t.Parallel()
	func(e *env) {
		a1, a2, b, c := trio(e)
		e.send(a1, `{"type":"typing"}`)
		// The other users hear it; none of alice's tabs does.
		e.silent(a1, a2)
		for _, s := range []*fakeSocket{b, c} {
			e.expect(s, typingOf("alice"))
		}
		// Within the interval a second one (from any of alice's tabs) is
		// dropped without an error.
		e.host.now = e.host.now.Add(1900 * time.Millisecond)
		e.send(a2, `{"type":"typing"}`)
		e.send(a1, `{"type":"typing"}`)
		e.silent(a1, a2, b, c)
		// Once it has passed, the next goes out.
		e.host.now = e.host.now.Add(100 * time.Millisecond)
		e.send(a1, `{"type":"typing"}`)
		e.expect(b, typingOf("alice"))
		// A message ends the typing: the next typing goes out at once.
		e.send(a1, `{"type":"message","text":"hi"}`)
		e.send(a1, `{"type":"typing"}`)
		hi := strings.Replace(msg(1, "alice", "hi"), ts, protocol.Timestamp(e.host.now), 1)
		e.expect(b, hi, typingOf("alice"))
		// Each user has a throttle of their own; bob's single tab is left
		// out of the member list by its index.
		e.send(b, `{"type":"typing"}`)
		e.expect(c, typingOf("alice"), hi, typingOf("alice"), typingOf("bob"))
		e.expect(a1, hi, typingOf("bob"))
		e.expect(a2, hi, typingOf("bob"))
		e.silent(b)
		// Typing is never stored: a joiner's history holds the message alone.
		d := e.connect()
		e.send(d, `{"type":"join","userId":"dave"}`)
		if got := d.take(); len(got) != 4 || got[2] != `{"type":"history","messages":[{"id":1,"userId":"alice","text":"hi","timestamp":"`+protocol.Timestamp(e.host.now)+`"}]}` {
			t.Errorf("a joiner got %q", got)
		}
	}(newEnv(t, room.DefaultConfig(), false))
}

// TestTypingAfterAnEviction: a new life of the object forwards typing as
// the first did.
func TestTypingAfterAnEviction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), true)
	a1, a2, b, c := trio(e)
	e.send(a1, `{"type":"typing"}`)
	e.silent(a1, a2)
	for _, s := range []*fakeSocket{b, c} {
		e.expect(s, typingOf("alice"))
	}
}

func TestTypingRules(t *testing.T) {
	t.Parallel()
	t.Run("not joined", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, room.DefaultConfig(), false)
		a := e.connect()
		e.send(a, `{"type":"typing"}`)
		e.expectError(a, protocol.CodeNotJoined)
	})
	t.Run("dropped typing frames still draw on the frame budget", func(t *testing.T) {
		t.Parallel()
		cfg := room.DefaultConfig()
		cfg.FrameBurst, cfg.FramePerSecond = 3, 1
		e := newEnv(t, cfg, false)
		a, b := e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`) // 1
		e.send(b, `{"type":"join","userId":"bob"}`)
		takeAll(a, b)
		e.send(a, `{"type":"typing"}`) // 2: forwarded
		e.send(a, `{"type":"typing"}`) // 3: dropped
		e.expect(b, typingOf("alice"))
		e.expect(a)
		e.send(a, `{"type":"ping"}`) // 4: over the budget
		e.expectError(a, protocol.CodeRateLimited)
	})
	t.Run("a zero interval forwards every one", func(t *testing.T) {
		t.Parallel()
		cfg := room.DefaultConfig()
		cfg.TypingInterval = 0
		e := newEnv(t, cfg, false)
		_, _, b, c := trio(e)
		e.send(b, `{"type":"typing"}`)
		e.send(b, `{"type":"typing"}`)
		e.expect(c, typingOf("bob"), typingOf("bob"))
	})
	t.Run("a muted user's typing is not forwarded", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, room.DefaultConfig(), false)
		mod, m := e.signedIn("mod", protocol.RoleModerator), e.signedIn("mia", protocol.RoleMember)
		e.send(mod, `{"type":"mute","userId":"mia"}`)
		takeAll(mod, m)
		e.send(m, `{"type":"typing"}`)
		e.expect(mod)
		e.expect(m)
	})
	t.Run("not above the presence limit", func(t *testing.T) {
		t.Parallel()
		cfg := room.DefaultConfig()
		cfg.PresenceLimit = 3
		e := newEnv(t, cfg, false)
		a1, a2, b, c := trio(e)
		e.send(a1, `{"type":"typing"}`)
		e.expect(b, typingOf("alice")) // three users: at the limit
		d := e.connect()
		e.send(d, `{"type":"join","userId":"dave"}`)
		takeAll(a1, a2, b, c, d)
		e.send(b, `{"type":"typing"}`) // four: above it
		e.silent(a1, a2, b, c, d)
	})
}

func TestReadMarkers(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a1, a2, b, c := trio(e)
		for i := range 5 {
			e.send(b, `{"type":"message","text":"m`+strconv.Itoa(i+1)+`"}`)
		}
		takeAll(a1, a2, b, c)
		e.send(a1, `{"type":"read","id":2}`)
		// The other users hear it at once; none of alice's tabs does.
		e.silent(a1, a2)
		for _, s := range []*fakeSocket{b, c} {
			e.expect(s, readOf("alice", 2))
		}
		// bob's single tab is left out of his own marker's broadcast.
		e.send(b, `{"type":"read","id":1}`)
		e.silent(b)
		for _, s := range []*fakeSocket{a1, a2, c} {
			e.expect(s, readOf("bob", 1))
		}
		// Within a second, newer markers wait; the latest wins, and the
		// alarm sends it once the second has passed, to the other users.
		e.host.now = e.host.now.Add(300 * time.Millisecond)
		e.send(a1, `{"type":"read","id":3}`)
		e.send(a2, `{"type":"read","id":4}`)
		e.silent(a1, a2, b, c)
		if want := testNow.Add(time.Second); !e.host.alarm.Equal(want) {
			t.Errorf("alarm at %v, want %v", e.host.alarm, want)
		}
		e.host.now = e.host.alarm
		e.alarm()
		e.silent(a1, a2)
		for _, s := range []*fakeSocket{b, c} {
			e.expect(s, readOf("alice", 4))
		}
		// Only forward: an older id is no news, for anyone.
		e.host.now = e.host.now.Add(2 * time.Second)
		e.send(a1, `{"type":"read","id":1}`)
		e.send(a1, `{"type":"read","id":4}`)
		e.silent(a1, a2, b, c)
		// A joiner of alice's learns her position and what follows it.
		a3 := e.connect()
		e.send(a3, `{"type":"join","userId":"alice"}`)
		got := a3.take()
		if len(got) != 4 || got[3] != readState(4, 1) {
			t.Errorf("alice's new tab got %q, want read_state 4 with 1 unread", got)
		}
		// Nothing more waits for the alarm.
		e.alarm()
		e.silent(a1, a2, a3, b, c)
	})
}

func TestReadMarkerRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	u := e.connect()
	e.send(u, `{"type":"read","id":1}`)
	e.expectError(u, protocol.CodeNotJoined)
	a1, _, b, _ := trio(e)
	e.send(b, `{"type":"message","text":"one"}`)
	takeAll(a1, b)
	for _, frame := range []string{
		`{"type":"read"}`, `{"type":"read","id":"1"}`, `{"type":"read","id":-1}`, `{"type":"read","id":1.5}`,
		`{"type":"read","id":2}`, // ahead of the room's last
	} {
		e.send(a1, frame)
		e.expectError(a1, protocol.CodeInvalidID)
	}
	e.expect(b)
}

func TestReadStateCapsTheUnreadCount(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.KeepMessages, cfg.JoinHistory = 2000, 1
	cfg.RateBurst, cfg.FrameBurst = 5000, 5000
	e := newEnv(t, cfg, false)
	w := e.connect()
	e.send(w, `{"type":"join","userId":"w"}`)
	for i := range protocol.MaxUnread + 1 {
		e.send(w, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
	}
	for _, c := range []struct {
		read int
		want string
	}{
		{0, `{"type":"read_state","lastRead":0,"unread":1000,"capped":true}`},
		{1, readState(1, 1000)},
		{1001, readState(1001, 0)},
	} {
		r := e.connect()
		e.send(r, `{"type":"join","userId":"r"}`)
		if c.read > 0 {
			e.send(r, `{"type":"read","id":`+strconv.Itoa(c.read)+`}`)
		}
		r2 := e.connect()
		e.send(r2, `{"type":"join","userId":"r"}`)
		if got := r2.take(); len(got) != 4 || got[3] != c.want {
			t.Errorf("after reading %d: %q, want %s", c.read, got, c.want)
		}
		e.peerClose(r, 1000, "")
		e.peerClose(r2, 1000, "")
	}
}

func TestReadMarkersAboveThePresenceLimitAreStoredNotSent(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.PresenceLimit = 2
	e := newEnv(t, cfg, false)
	a1, a2, b, c := trio(e)
	e.send(b, `{"type":"message","text":"one"}`)
	takeAll(a1, a2, b, c)
	e.send(a1, `{"type":"read","id":1}`)
	e.host.now = e.host.now.Add(2 * time.Second)
	e.alarm()
	e.silent(a1, a2, b, c)
	a3 := e.connect()
	e.send(a3, `{"type":"join","userId":"alice"}`)
	if got := a3.take(); len(got) < 1 || got[len(got)-1] != readState(1, 0) {
		t.Errorf("a new tab got %q, want read_state 1", got)
	}
	// GET /api/rooms/{room} leaves them out above the limit.
	if _, body := e.room.Info(e.host, "r"); strings.Contains(string(body), "reads") {
		t.Errorf("info above the limit: %s", body)
	}
}

func TestAWaitingReadMarkerOutlivesItsSender(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a1, a2, b, c := trio(e)
		e.send(b, `{"type":"message","text":"one"}`)
		e.send(b, `{"type":"message","text":"two"}`)
		e.send(a1, `{"type":"read","id":1}`)
		e.send(a1, `{"type":"read","id":2}`)
		e.peerClose(a1, 1000, "")
		e.peerClose(a2, 1000, "")
		takeAll(b, c)
		e.host.now = e.host.alarm
		e.alarm()
		e.expect(b, readOf("alice", 2))
		e.expect(c, readOf("alice", 2))
	})
}

func TestReadStorageFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a1, _, b, _ := trio(e)
	e.send(b, `{"type":"message","text":"one"}`)
	takeAll(a1, b)
	e.host.store.fail = true
	e.send(a1, `{"type":"read","id":1}`)
	e.expectError(a1, protocol.CodeStorage)
	e.expect(b)
	e.host.store.fail = false
	e.send(a1, `{"type":"read","id":1}`)
	e.expect(b, readOf("alice", 1))
}

func TestReactions(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a1, a2, b, c := trio(e)
		e.send(b, `{"type":"message","text":"one"}`) // 1
		takeAll(a1, a2, b, c)
		e.send(a1, `{"type":"react","id":1,"emoji":"👍"}`)  // 2
		e.send(c, `{"type":"react","id":1,"emoji":"👍"}`)   // 3
		e.send(a2, `{"type":"react","id":1,"emoji":"👍🏽"}`) // 4
		e.send(a2, `{"type":"react","id":1,"emoji":"👍"}`)  // 5: alice's, from either tab, toggles off
		want := []string{reactionOf(2, 1, "👍", "alice", true), reactionOf(3, 1, "👍", "carol", true),
			reactionOf(4, 1, "👍🏽", "alice", true), reactionOf(5, 1, "👍", "alice", false)}
		for _, s := range []*fakeSocket{a1, a2, b, c} {
			e.expect(s, want...) // everyone, the reactor too
		}
		// History carries the state; a resume from 1 the changes.
		d := e.connect()
		e.send(d, `{"type":"join","userId":"dave"}`)
		got := d.take()
		var h protocol.History
		if len(got) != 4 || json.Unmarshal([]byte(got[2]), &h) != nil || len(h.Messages) != 1 || !reflect.DeepEqual(h.Messages[0].Reactions,
			[]protocol.ReactionSummary{{Emoji: "👍", Count: 1, Users: []string{"carol"}}, {Emoji: "👍🏽", Count: 1, Users: []string{"alice"}}}) {
			t.Errorf("a joiner got %q", got)
		}
		r := e.connect()
		e.send(r, `{"type":"join","userId":"ron","since":1}`)
		got = r.take()
		if len(got) != 4 || got[2] != `{"type":"history","messages":[],"changes":[`+strings.Join(want, ",")+`]}` {
			t.Errorf("a resume from 1 got %q", got)
		}
		// A deleted message loses its reactions: a resume from 1 gets the
		// deletion alone.
		e.send(b, `{"type":"delete","id":1}`)
		takeAll(a1)
		r2 := e.connect()
		e.send(r2, `{"type":"join","userId":"rita","since":1}`)
		got = r2.take()
		if len(got) != 4 || !strings.Contains(got[2], `"changes":[{"type":"message_deleted","id":6,"messageId":1,`) || strings.Contains(got[2], "reaction") {
			t.Errorf("a resume after the delete got %q", got)
		}
		takeAll(a1)
		e.send(a1, `{"type":"react","id":1,"emoji":"👍"}`)
		e.expectError(a1, protocol.CodeNotFound)
	})
}

func TestReactionRules(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.FrameBurst = 100, 100
	e := newEnv(t, cfg, false)
	u := e.connect()
	e.send(u, `{"type":"react","id":1,"emoji":"👍"}`)
	e.expectError(u, protocol.CodeNotJoined)
	a1, _, b, _ := trio(e)
	e.send(b, `{"type":"message","text":"one"}`)
	takeAll(a1, b)
	for _, c := range []struct{ frame, code string }{
		{`{"type":"react","emoji":"👍"}`, protocol.CodeInvalidID},
		{`{"type":"react","id":"1","emoji":"👍"}`, protocol.CodeInvalidID},
		{`{"type":"react","id":1}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":1,"emoji":""}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":1,"emoji":"ok"}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":1,"emoji":"👍👍"}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":1,"emoji":1}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":1,"emoji":null}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":1,"emoji":"👨‍👩‍👧‍👦‍👨‍👩‍👧"}`, protocol.CodeInvalidReaction},
		{`{"type":"react","id":9,"emoji":"👍"}`, protocol.CodeNotFound},
	} {
		e.send(a1, c.frame)
		e.expectError(a1, c.code)
	}
	e.expect(b)
	// Twenty distinct emoji fit on a message; the 21st does not, but one
	// already there still toggles.
	emoji := []string{"😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "😚", "🙂"}
	for _, x := range emoji {
		e.send(a1, `{"type":"react","id":1,"emoji":"`+x+`"}`)
	}
	takeAll(a1, b)
	e.send(b, `{"type":"react","id":1,"emoji":"🤗"}`)
	e.expectError(b, protocol.CodeTooManyReactions)
	e.send(b, `{"type":"react","id":1,"emoji":"😀"}`)
	e.expect(b, reactionOf(22, 1, "😀", "bob", true))
}

func TestReactionsFollowMutesAndTheRateLimit(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond = 2, 1
	e := newEnv(t, cfg, false)
	mod, m := e.signedIn("mod", protocol.RoleModerator), e.signedIn("mia", protocol.RoleMember)
	e.send(mod, `{"type":"message","text":"one"}`)
	e.send(m, `{"type":"react","id":1,"emoji":"👍"}`)
	e.send(m, `{"type":"react","id":1,"emoji":"👍"}`)
	takeAll(mod, m)
	e.send(m, `{"type":"react","id":1,"emoji":"👍"}`)
	e.expectError(m, protocol.CodeRateLimited)
	e.host.now = e.host.now.Add(time.Minute)
	e.send(mod, `{"type":"mute","userId":"mia"}`)
	takeAll(mod, m)
	e.send(m, `{"type":"react","id":1,"emoji":"👍"}`)
	e.expectError(m, protocol.CodeMuted)
	e.expect(mod)
}

func TestReactionStorageFailureStoresAndSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a1, _, b, _ := trio(e)
	e.send(b, `{"type":"message","text":"one"}`)
	takeAll(a1, b)
	e.host.store.fail = true
	e.send(a1, `{"type":"react","id":1,"emoji":"👍"}`)
	e.expectError(a1, protocol.CodeStorage)
	e.expect(b)
	e.host.store.fail = false
	e.send(a1, `{"type":"react","id":1,"emoji":"👍"}`)
	e.expect(b, reactionOf(2, 1, "👍", "alice", true))
}

// A newcomer after an eviction may take the session id of the socket that
// set a waiting read marker (ids restart above the highest open one): it
// still hears of the marker.
func TestAWaitingReadMarkerReachesANewcomerWithTheSettersSessionID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	b, a := e.connect(), e.connect()
	e.send(b, `{"type":"join","userId":"bob"}`)
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.send(b, `{"type":"message","text":"one"}`)
	e.send(b, `{"type":"message","text":"two"}`)
	e.send(a, `{"type":"read","id":1}`)
	e.send(a, `{"type":"read","id":2}`)
	e.peerClose(a, 1000, "")
	e.evict = true // from here on, a new life of the object before every event
	c := e.connect()
	e.send(c, `{"type":"join","userId":"carol"}`)
	takeAll(b, c)
	e.host.now = e.host.alarm
	e.alarm()
	e.expect(b, readOf("alice", 2))
	e.expect(c, readOf("alice", 2))
}
