package room_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chatroom/gochat/room/protocol"

	"github.com/chatroom/gochat/room"
)

// Each scenario runs twice: with a warm room, and with the room rebuilt from
// attachments before every single event.
func TestRoom(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	tests := []struct {
		name     string
		scenario func(e *env)
	}{
		{"join announces to everyone joined, and the joiner gets roster and history", func(e *env) {
			a, b, lurker := e.connect(), e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.expect(a, welcome("alice", us("alice"))...)
			e.send(b, `{"type":"join","userId":"bob"}`)
			e.expect(a, joined("bob"))
			e.expect(b, welcome("bob", us("alice", "bob"))...)
			e.expect(lurker) // not joined: receives no broadcasts
		}},
		{"message reaches every joined member with the joined identity and an id", func(e *env) {
			a, b, lurker := e.connect(), e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			a.take()
			b.take()
			e.send(a, `{"type":"message","text":"hi","userId":"mallory"}`)
			e.expect(a, msg(1, "alice", "hi"))
			e.expect(b, msg(1, "alice", "hi"))
			e.expect(lurker)
			e.send(b, `{"type":"message","text":"yo"}`)
			e.expect(a, msg(2, "bob", "yo"))
			e.expect(b, msg(2, "bob", "yo"))
		}},
		{"the seed's quick test: message first joins implicitly, then join is a no-op", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(b, `{"type":"join","userId":"bob"}`)
			b.take()
			e.send(a, `{"type":"message","text":"Hello, world!","userId":"user123"}`)
			e.expect(a, seq(welcome("user123", us("bob", "user123")), msg(1, "user123", "Hello, world!"))...)
			e.expect(b, joined("user123"), msg(1, "user123", "Hello, world!"))
			e.send(a, `{"type":"join","userId":"user123"}`)
			e.expect(a)
			e.expect(b)
		}},
		{"two tabs of one user are one presence", func(e *env) {
			a1, a2, b := e.connect(), e.connect(), e.connect()
			e.send(b, `{"type":"join","userId":"bob"}`)
			b.take()
			e.send(a1, `{"type":"join","userId":"alice"}`)
			e.expect(a1, welcome("alice", us("alice", "bob"))...)
			e.expect(b, joined("alice"))
			e.send(a2, `{"type":"join","userId":"alice"}`)
			e.expect(a2, welcome("alice", us("alice", "bob"))...) // the joiner always hears its own join
			e.expect(a1)                                          // the others do not: alice was already here
			e.expect(b)
			e.peerClose(a1, 1000, "")
			e.expect(b) // alice still has a tab open
			e.expect(a2)
			e.peerClose(a2, 1001, "going away")
			e.expect(b, left("alice"))
		}},
		{"an abrupt drop announces user_left exactly once and closes with 1000", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			a.take()
			b.take()
			e.peerClose(a, 1006, "")
			if a.closeCode != 1000 || a.closes != 1 {
				e.t.Errorf("close reciprocated with %d (%d times), want 1000 once", a.closeCode, a.closes)
			}
			e.expect(b, left("alice"))
			e.socketError(a) // a late error for the same socket says nothing more
			e.expect(b)
		}},
		{"a clean close is reciprocated with the peer's code and reason", func(e *env) {
			a := e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.peerClose(a, 4000, "bye")
			if a.closeCode != 4000 || a.closeMsg != "bye" {
				e.t.Errorf("close = %d %q, want 4000 bye", a.closeCode, a.closeMsg)
			}
		}},
		{"an unjoined socket leaves silently", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(b, `{"type":"join","userId":"bob"}`)
			b.take()
			e.peerClose(a, 1000, "")
			e.expect(b)
		}},
		{"an error event is a leave", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			a.take()
			b.take()
			e.socketError(a)
			e.expect(b, left("alice"))
			if a.closes != 1 {
				e.t.Errorf("errored socket closed %d times, want 1", a.closes)
			}
		}},
		{"a failed send drops the peer and announces it once", func(e *env) {
			a, b, c := e.connect(), e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			e.send(c, `{"type":"join","userId":"carol"}`)
			a.take()
			b.take()
			c.take()
			b.failSend = true
			e.send(a, `{"type":"message","text":"x"}`)
			e.expect(a, msg(1, "alice", "x"), left("bob"))
			e.expect(c, msg(1, "alice", "x"), left("bob"))
			e.peerClose(b, 1006, "") // its close event arrives later
			e.expect(a)
			e.expect(c)
		}},
		{"joining again as the same user is a silent no-op", func(e *env) {
			a := e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			a.take()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.expect(a)
			e.send(a, `{"type":"join","userId":"alice","since":0}`)
			e.expect(a)
		}},
		{"joining as another user is already_joined and the identity stays", func(e *env) {
			a := e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			a.take()
			e.send(a, `{"type":"join","userId":"bob"}`)
			e.expectError(a, protocol.CodeAlreadyJoined)
			e.send(a, `{"type":"message","text":"still me"}`)
			e.expect(a, msg(1, "alice", "still me"))
		}},
		{"a message without a join or userId is not_joined", func(e *env) {
			a := e.connect()
			e.send(a, `{"type":"message","text":"hi"}`)
			e.expectError(a, protocol.CodeNotJoined)
			e.send(a, `{"type":"message","text":"hi","userId":""}`)
			e.expectError(a, protocol.CodeNotJoined)
		}},
		{"a rejected implicit join joins nobody", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(b, `{"type":"join","userId":"bob"}`)
			b.take()
			e.send(a, `{"type":"message","text":"","userId":"alice"}`)
			e.expectError(a, protocol.CodeInvalidMessage)
			e.expect(b)
			e.send(a, `{"type":"join","userId":"carol"}`) // still free to join as anyone
			e.expect(a, welcome("carol", us("bob", "carol"))...)
		}},
		{"ping that is not byte-identical is answered by the room", func(e *env) {
			a := e.connect()
			e.send(a, `{ "type" : "ping" }`)
			e.expect(a, `{"type":"pong"}`)
			e.send(a, `{"type":"ping","n":1}`)
			e.expect(a, `{"type":"pong"}`)
		}},
		{"binary frames are unsupported_frame", func(e *env) {
			a := e.connect()
			e.sendBinary(a, []byte(`{"type":"ping"}`))
			e.expectError(a, protocol.CodeUnsupportedFrame)
		}},
		{"a frame over 1 MiB closes with 1009 and the room carries on", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			a.take()
			b.take()
			e.send(a, `{"type":"message","text":"`+strings.Repeat("x", 1<<20)+`"}`)
			if a.closeCode != 1009 {
				e.t.Errorf("close code = %d, want 1009", a.closeCode)
			}
			e.expect(b, left("alice"))
			e.send(b, `{"type":"message","text":"still here"}`)
			e.expect(b, msg(1, "bob", "still here"))
			e.peerClose(a, 1009, "") // the peer's answer announces nothing twice
			e.expect(b)
		}},
		{"a frame of exactly 1 MiB is not closed", func(e *env) {
			a := e.connect()
			frame := `{"type":"message","userId":"alice","text":"`
			frame += strings.Repeat("x", 1<<20-len(frame)-2) + `"}`
			e.send(a, frame)
			e.expectError(a, protocol.CodeMessageTooLong)
		}},
		{"history on join holds the latest messages, oldest first", func(e *env) {
			a := e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			for i := 1; i <= 3; i++ {
				e.send(a, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
			}
			a.take()
			b := e.connect()
			e.send(b, `{"type":"join","userId":"bob"}`)
			e.expect(b, welcome("bob", us("alice", "bob"), stored(1, "alice", "m1"), stored(2, "alice", "m2"), stored(3, "alice", "m3"))...)
		}},
		{"resume with since gets exactly what was missed", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			e.send(a, `{"type":"message","text":"seen"}`)
			e.peerClose(b, 1006, "")
			e.send(a, `{"type":"message","text":"missed1"}`)
			e.send(a, `{"type":"message","text":"missed2"}`)
			b2 := e.connect()
			e.send(b2, `{"type":"join","userId":"bob","since":1}`)
			// Bob has marked nothing read: all three stored messages are unread.
			e.expect(b2, joined("bob"), presence("alice", "bob"),
				history(stored(2, "alice", "missed1"), stored(3, "alice", "missed2")), readState(0, 3))
			e.send(a, `{"type":"message","text":"live"}`)
			b2.take()
			b3 := e.connect()
			e.send(b3, `{"type":"join","userId":"carol","since":4}`) // up to date
			e.expect(b3, joined("carol"), presence("alice", "bob", "carol"), history(), readState(0, 4))
		}},
		{"since ahead of the room or malformed is invalid_since and joins nobody", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(b, `{"type":"message","userId":"bob","text":"one"}`)
			b.take()
			for _, since := range []string{`2`, `-1`, `1.5`, `"1"`, `1e0`, `true`, `[]`, `99999999999999999999`} {
				e.send(a, `{"type":"join","userId":"alice","since":`+since+`}`)
				e.expectError(a, protocol.CodeInvalidSince)
				e.expect(b)
			}
			e.send(a, `{"type":"join","userId":"alice","since":null}`) // null means none
			e.expect(a, welcome("alice", us("alice", "bob"), stored(1, "bob", "one"))...)
		}},
		{"a failed write is storage_unavailable and nothing is broadcast or stored", func(e *env) {
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			e.send(a, `{"type":"message","text":"kept"}`)
			a.take()
			b.take()
			e.host.store.fail = true
			e.send(a, `{"type":"message","text":"lost"}`)
			e.expectError(a, protocol.CodeStorage)
			e.expect(b)
			e.host.store.fail = false
			e.send(a, `{"type":"message","text":"next"}`) // no id was burned
			e.expect(a, msg(2, "alice", "next"))
			e.expect(b, msg(2, "alice", "next"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, cfg, tt.scenario)
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 4097)
	tests := []struct {
		name   string
		joined bool
		frame  string
		code   string
	}{
		{"not JSON", false, `hello`, protocol.CodeInvalidJSON},
		{"truncated JSON", false, `{"type":"join"`, protocol.CodeInvalidJSON},
		{"trailing garbage", false, `{"type":"ping"} x`, protocol.CodeInvalidJSON},
		{"array", false, `[1,2]`, protocol.CodeInvalidJSON},
		{"string", false, `"join"`, protocol.CodeInvalidJSON},
		{"number", false, `42`, protocol.CodeInvalidJSON},
		{"null", false, `null`, protocol.CodeInvalidJSON},
		{"empty", false, ``, protocol.CodeInvalidJSON},
		{"no type", false, `{"userId":"a"}`, protocol.CodeUnknownType},
		{"type not a string", false, `{"type":1}`, protocol.CodeUnknownType},
		{"type null", false, `{"type":null}`, protocol.CodeUnknownType},
		{"unknown type", false, `{"type":"leave"}`, protocol.CodeUnknownType},
		{"type is case-sensitive", false, `{"type":"JOIN","userId":"a"}`, protocol.CodeUnknownType},
		{"type an object", false, `{"type":{"type":"join"},"userId":"a"}`, protocol.CodeUnknownType},
		{"type given twice, last not a string", false, `{"type":"join","type":[1],"userId":"a"}`, protocol.CodeUnknownType},
		{"userId given twice, last not a string", false, `{"type":"join","userId":"a","userId":5}`, protocol.CodeInvalidUserID},
		{"text with a bad escape", true, `{"type":"message","text":"\x"}`, protocol.CodeInvalidJSON},
		{"text an array", true, `{"type":"message","text":["hi"]}`, protocol.CodeInvalidMessage},
		{"join without userId", false, `{"type":"join"}`, protocol.CodeInvalidUserID},
		{"empty userId", false, `{"type":"join","userId":""}`, protocol.CodeInvalidUserID},
		{"userId not a string", false, `{"type":"join","userId":42}`, protocol.CodeInvalidUserID},
		{"userId too long", false, `{"type":"join","userId":"` + strings.Repeat("u", 65) + `"}`, protocol.CodeInvalidUserID},
		{"userId with a newline", false, `{"type":"join","userId":"a\nb"}`, protocol.CodeInvalidUserID},
		{"userId with NUL", false, `{"type":"join","userId":"a\u0000"}`, protocol.CodeInvalidUserID},
		{"userId with DEL", false, `{"type":"join","userId":"a\u007f"}`, protocol.CodeInvalidUserID},
		{"message not joined", false, `{"type":"message","text":"hi"}`, protocol.CodeNotJoined},
		{"message not joined, bad userId", false, `{"type":"message","text":"hi","userId":7}`, protocol.CodeNotJoined},
		{"message without text", true, `{"type":"message"}`, protocol.CodeInvalidMessage},
		{"message with empty text", true, `{"type":"message","text":""}`, protocol.CodeInvalidMessage},
		{"message text not a string", true, `{"type":"message","text":5}`, protocol.CodeInvalidMessage},
		{"message text null", true, `{"type":"message","text":null}`, protocol.CodeInvalidMessage},
		{"message too long", true, `{"type":"message","text":"` + long + `"}`, protocol.CodeMessageTooLong},
		{"message too long in characters", true, `{"type":"message","text":"` + strings.Repeat("é", 4097) + `"}`, protocol.CodeMessageTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, room.DefaultConfig(), func(e *env) {
				a, b := e.connect(), e.connect()
				e.send(b, `{"type":"join","userId":"bob"}`)
				if tt.joined {
					e.send(a, `{"type":"join","userId":"alice"}`)
				}
				a.take()
				b.take()
				e.send(a, tt.frame)
				e.expectError(a, tt.code)
				e.expect(b) // nothing leaks to the others
			})
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		error string
	}{
		{"4096 ASCII characters pass", strings.Repeat("x", 4096), ""},
		{"4096 two-byte characters pass", strings.Repeat("é", 4096), ""},
		{"4096 astral characters pass", strings.Repeat("😀", 4096), ""},
		{"4097 characters fail", strings.Repeat("x", 4097), protocol.CodeMessageTooLong},
		{"64-character userId passes as part of a message", "ok", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, room.DefaultConfig(), false)
			a := e.connect()
			uid := strings.Repeat("ü", 64)
			e.send(a, `{"type":"message","userId":"`+uid+`","text":"`+tt.text+`"}`)
			if tt.error != "" {
				e.expectError(a, tt.error)
				return
			}
			e.expect(a, seq(welcome(uid, us(uid)), msg(1, uid, tt.text))...)
		})
	}
	t.Run("the text limit is configurable", func(t *testing.T) {
		t.Parallel()
		cfg := room.DefaultConfig()
		cfg.MaxTextChars = 3
		e := newEnv(t, cfg, false)
		a := e.connect()
		e.send(a, `{"type":"message","userId":"a","text":"abcd"}`)
		e.expectError(a, protocol.CodeMessageTooLong)
		e.send(a, `{"type":"message","userId":"a","text":"abc"}`)
		e.expect(a, seq(welcome("a", us("a")), msg(1, "a", "abc"))...)
	})
}

func TestBroadcastIsOneCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	var socks []*fakeSocket
	for i := 0; i < 20; i++ {
		s := e.connect()
		e.send(s, `{"type":"join","userId":"u`+string(rune('a'+i))+`"}`)
		socks = append(socks, s)
	}
	before := e.host.broadcasts
	e.send(socks[0], `{"type":"message","text":"fan"}`)
	if got := e.host.broadcasts - before; got != 1 {
		t.Errorf("a message took %d fan-out calls, want 1", got)
	}
	for _, s := range socks {
		got := s.take()
		if len(got) == 0 || got[len(got)-1] != msg(1, "ua", "fan") {
			t.Fatalf("socket %s missed the message: %q", s.name, got)
		}
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a := e.connect()
	e.send(a, `{"type":"message","userId":"a\"b","text":"line1\nline2 <b>\u2028"}`)
	got := a.take()
	// Not HTML-escaped: a < is one byte on the wire (the hardening rule);
	// U+2028 stays escaped, as JSON in a script would need.
	want := `{"type":"message","id":1,"userId":"a\"b","text":"line1\nline2 <b>\u2028","timestamp":"` + ts + `"}`
	if len(got) != 5 || got[0] != `{"type":"user_joined","userId":"a\"b","timestamp":"`+ts+`"}` || got[3] != readState(0, 0) || got[4] != want {
		t.Errorf("got %q", got)
	}
}

// seq flattens frames and lists of frames into one expectation.
func seq(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

// failingAttachSocket is a socket whose next failures attachment writes fail.
type failingAttachSocket struct {
	*fakeSocket
	failures int
}

func (s *failingAttachSocket) SetAttachment(data []byte) error {
	if s.failures > 0 {
		s.failures--
		return errStorage
	}
	return s.fakeSocket.SetAttachment(data)
}

func TestAFailedLeaveMarkLeavesNoGhost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		failures int
	}{
		{"the mark is retried", 1},
		{"the mark cannot be written", 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, room.DefaultConfig(), false)
			b := e.connect()
			e.send(b, `{"type":"join","userId":"bob"}`)
			sock := &failingAttachSocket{fakeSocket: &fakeSocket{name: "a", state: wsOpen}}
			e.host.sockets = append(e.host.sockets, sock.fakeSocket)
			if err := e.room.Accept(e.host, sock, room.Conn{}); err != nil {
				t.Fatal(err)
			}
			e.room.Message(e.host, sock, room.Inbound{Text: []byte(`{"type":"join","userId":"alice"}`)})
			b.take()
			sock.failures = tt.failures
			// The peer goes away abruptly.
			sock.state = wsClosing
			e.room.Error(e.host, sock)
			e.expect(b, left("alice"))
			if tt.failures == 1 {
				// The retried mark holds: a late close event announces
				// nothing twice, even after a rebuild.
				e.room = room.New(e.cfg)
				e.room.Close(e.host, sock, 1006, "")
				e.expect(b)
			}
			// A rebuild never counts alice again.
			e.room = room.New(e.cfg)
			c := e.connect()
			e.room.Message(e.host, c, room.Inbound{Text: []byte(`{"type":"join","userId":"carol"}`)})
			if users := e.room.Users(); !slices.Equal(users, []string{"bob", "carol"}) {
				t.Errorf("after a rebuild the roster is %q, want [bob carol]: no ghost", users)
			}
		})
	}
}

// TestAClosingSocketKeepsItsSessionID: after an eviction, a socket whose
// peer closed it (its close event still to come) is not a member, but no new
// socket may take its session id, or that close would end the wrong session.
func TestAClosingSocketKeepsItsSessionID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a, b := e.connect(), e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.send(b, `{"type":"join","userId":"bob"}`)
	a.take()
	b.take()
	e.room = room.New(e.cfg) // evicted
	b.state = wsClosing      // the peer closed it; the event is queued
	c := e.connect()
	e.send(c, `{"type":"join","userId":"carol"}`)
	c.take()
	if string(c.attachment) == string(b.attachment) || strings.Contains(string(c.attachment), `"s":2,`) {
		t.Fatalf("c took b's session: %s and %s", c.attachment, b.attachment)
	}
	e.expect(a, joined("carol"))
	e.room.Close(e.host, b, 1000, "")
	e.expect(a, left("bob"))
	e.expect(c, left("bob"))
	e.send(c, `{"type":"message","text":"still me"}`)
	e.expect(c, msg(1, "carol", "still me"))
	if users := e.room.Users(); !slices.Equal(users, []string{"alice", "carol"}) {
		t.Errorf("roster %q, want [alice carol]", users)
	}
}

// TestALateFrameFromADroppedSocketIsIgnored: the room dropped b but could not
// mark it gone; a frame b sent before it saw the close must not bring it back.
func TestALateFrameFromADroppedSocketIsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a := e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	b := &failingAttachSocket{fakeSocket: &fakeSocket{name: "b", state: wsOpen}}
	e.host.sockets = append(e.host.sockets, b.fakeSocket)
	if err := e.room.Accept(e.host, b, room.Conn{}); err != nil {
		t.Fatal(err)
	}
	e.room.Message(e.host, b, room.Inbound{Text: []byte(`{"type":"join","userId":"bob"}`)})
	a.take()
	b.failures = 100
	e.room.Message(e.host, b, room.Inbound{Oversize: true}) // dropped with 1009
	e.expect(a, left("bob"))
	e.room.Message(e.host, b, room.Inbound{Text: []byte(`{"type":"message","text":"late"}`)})
	e.expect(a)
	if len(e.host.store.rows) != 0 {
		t.Error("a late frame from a dropped socket was stored")
	}
}
