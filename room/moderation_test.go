package room_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// frameOf decodes a frame into a map, failing the test on bad JSON.
func frameOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("frame %s: %v", s, err)
	}
	return v
}

// signedIn connects and joins with a token's identity and role.
func (e *env) signedIn(user, role string) *fakeSocket {
	e.t.Helper()
	s := e.connectWith(room.Conn{User: user, Role: role})
	e.send(s, `{"type":"join"}`)
	return s
}

func takeAll(ss ...*fakeSocket) {
	for _, s := range ss {
		s.take()
	}
}

func TestKick(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		alice := e.signedIn("alice", protocol.RoleMember)
		bob1, bob2 := e.signedIn("bob", protocol.RoleMember), e.signedIn("bob", protocol.RoleMember)
		takeAll(mod, alice, bob1, bob2)
		e.send(mod, `{"type":"kick","userId":"bob","reason":"spam"}`)
		got := alice.take()
		if len(got) != 2 {
			t.Fatalf("alice got %q, want user_kicked then user_left", got)
		}
		k := frameOf(t, got[0])
		if k["type"] != "user_kicked" || k["userId"] != "bob" || k["by"] != "mod" || k["reason"] != "spam" || k["id"] != float64(1) || k["timestamp"] != ts {
			t.Errorf("kick frame %s", got[0])
		}
		if got[1] != left("bob") {
			t.Errorf("then %s, want bob's user_left", got[1])
		}
		closedWith(t, bob1, 4003, "kicked")
		closedWith(t, bob2, 4003, "kicked")
		// bob may come back.
		if status, _ := e.admit(room.Conn{User: "bob", Role: protocol.RoleMember}); status != 0 {
			t.Errorf("bob after a kick: %d, want admitted", status)
		}
		mod.take()
		e.send(mod, `{"type":"kick","userId":"nobody"}`)
		e.expectError(mod, "not_found")
	})
}

func TestBan(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		alice := e.signedIn("alice", protocol.RoleMember)
		bob := e.signedIn("bob", protocol.RoleMember)
		takeAll(mod, alice, bob)
		e.send(mod, `{"type":"ban","userId":"bob","seconds":3600,"reason":"abuse"}`)
		got := alice.take()
		wantUntil := protocol.Timestamp(testNow.Add(time.Hour))
		if len(got) != 2 || frameOf(t, got[0])["until"] != wantUntil || frameOf(t, got[0])["type"] != "user_banned" || got[1] != left("bob") {
			t.Fatalf("alice got %q, want user_banned until %s, then user_left", got, wantUntil)
		}
		closedWith(t, bob, 4003, "banned")
		status, body := e.room.Admit(e.host, room.Conn{User: "bob", Role: protocol.RoleMember})
		if status != 403 || frameOf(t, string(body))["error"] != "banned" || frameOf(t, string(body))["until"] != wantUntil {
			t.Errorf("bob's upgrade: %d %s, want 403 banned until %s", status, body, wantUntil)
		}
		// An open-mode join as bob is refused too.
		open := e.connect()
		e.send(open, `{"type":"join","userId":"bob"}`)
		if got := open.take(); len(got) != 1 || frameOf(t, got[0])["code"] != "banned" {
			t.Errorf("an open join as bob got %q, want banned", got)
		}
		closedWith(t, open, 4003, "banned")
		// The ban ends by itself.
		e.advance(time.Hour)
		if status, _ := e.admit(room.Conn{User: "bob", Role: protocol.RoleMember}); status != 0 {
			t.Errorf("bob after the ban expired: %d, want admitted", status)
		}
		mod.take()
		e.send(mod, `{"type":"unban","userId":"bob"}`)
		e.expectError(mod, "not_found") // nothing to lift any more
	})
}

func TestBanUntilLiftedAndUnban(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		alice := e.signedIn("alice", protocol.RoleMember)
		takeAll(mod, alice)
		e.send(mod, `{"type":"ban","userId":"bob"}`) // bob is not even here
		got := alice.take()
		if len(got) != 1 || !strings.Contains(got[0], `"until":null`) {
			t.Fatalf("alice got %q, want user_banned until null", got)
		}
		e.advance(1000 * time.Hour)
		if status, _ := e.admit(room.Conn{User: "bob"}); status != 403 {
			t.Errorf("bob much later: %d, want 403: the ban lasts until lifted", status)
		}
		e.send(mod, `{"type":"unban","userId":"bob"}`)
		if got := alice.take(); len(got) != 1 || frameOf(t, got[0])["type"] != "user_unbanned" {
			t.Errorf("alice got %q, want user_unbanned", got)
		}
		if status, _ := e.admit(room.Conn{User: "bob"}); status != 0 {
			t.Errorf("bob after unban: %d", status)
		}
	})
}

func TestMute(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		bob := e.signedIn("bob", protocol.RoleMember)
		takeAll(mod, bob)
		e.send(mod, `{"type":"mute","userId":"bob","seconds":600}`)
		if got := bob.take(); len(got) != 1 || frameOf(t, got[0])["type"] != "user_muted" {
			t.Fatalf("bob got %q, want user_muted", got)
		}
		mod.take()
		e.send(bob, `{"type":"message","text":"can I talk?"}`)
		got := bob.take()
		if len(got) != 1 || frameOf(t, got[0])["code"] != "muted" || frameOf(t, got[0])["until"] != protocol.Timestamp(testNow.Add(600*time.Second)) {
			t.Errorf("a muted message got %q", got)
		}
		e.expect(mod) // nothing reached the room
		// bob still reads.
		e.send(mod, `{"type":"message","text":"listen"}`)
		if got := bob.take(); len(got) != 1 || frameOf(t, got[0])["text"] != "listen" {
			t.Errorf("bob got %q, want the moderator's message", got)
		}
		mod.take()
		e.send(mod, `{"type":"unmute","userId":"bob"}`)
		takeAll(mod, bob)
		e.send(bob, `{"type":"message","text":"thanks"}`)
		if got := mod.take(); len(got) != 1 || frameOf(t, got[0])["text"] != "thanks" {
			t.Errorf("after unmute the moderator got %q", got)
		}
	})
}

func TestSlowMode(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		alice := e.signedIn("alice", protocol.RoleMember)
		takeAll(mod, alice)
		e.send(mod, `{"type":"slow_mode","seconds":10}`)
		e.expect(alice, `{"type":"room_settings","slowModeSeconds":10}`)
		e.expect(mod, `{"type":"room_settings","slowModeSeconds":10}`)
		e.send(alice, `{"type":"message","text":"one"}`)
		takeAll(mod, alice)
		e.advance(4 * time.Second)
		e.send(alice, `{"type":"message","text":"two"}`)
		got := alice.take()
		if len(got) != 1 || frameOf(t, got[0])["code"] != "slow_mode" || frameOf(t, got[0])["retryAfterMs"] != float64(6000) {
			t.Errorf("a message 4 s into 10 s of slow mode got %q, want slow_mode after 6000 ms", got)
		}
		// Moderators are not slowed down.
		e.send(mod, `{"type":"message","text":"a"}`)
		e.send(mod, `{"type":"message","text":"b"}`)
		if got := mod.take(); len(got) != 2 {
			t.Errorf("the moderator's two messages: %q", got)
		}
		alice.take()
		// A joiner hears the setting after presence.
		c := e.connect()
		e.send(c, `{"type":"join","userId":"carol"}`)
		// Stored: one, a and b ("two" was refused).
		if got := c.take(); len(got) != 5 || got[2] != `{"type":"room_settings","slowModeSeconds":10}` || got[4] != readState(0, 3) {
			t.Errorf("a joiner got %q, want room_settings after presence and read_state after history", got)
		}
		alice.take() // carol's user_joined
		e.advance(6 * time.Second)
		e.send(alice, `{"type":"message","text":"three"}`)
		if got := alice.take(); len(got) != 1 || frameOf(t, got[0])["type"] != "message" {
			t.Errorf("after the wait alice got %q", got)
		}
		e.send(mod, `{"type":"slow_mode","seconds":0}`)
		e.expect(alice, `{"type":"room_settings","slowModeSeconds":0}`)
	})
}

func TestWhoMayModerate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	member := e.signedIn("alice", protocol.RoleMember)
	mod := e.signedIn("mod", protocol.RoleModerator)
	svc := e.signedIn("bridge", protocol.RoleService)
	open := e.connect()
	e.send(open, `{"type":"join","userId":"opener"}`)
	takeAll(member, mod, svc, open)
	for _, tt := range []struct {
		name  string
		who   *fakeSocket
		frame string
		code  string
	}{
		{"a member's kick", member, `{"type":"kick","userId":"mod"}`, "forbidden"},
		{"a member's ban", member, `{"type":"ban","userId":"mod"}`, "forbidden"},
		{"a member's slow mode", member, `{"type":"slow_mode","seconds":5}`, "forbidden"},
		{"open mode has no moderators", open, `{"type":"mute","userId":"alice"}`, "forbidden"},
		{"banning oneself", mod, `{"type":"ban","userId":"mod"}`, "forbidden"},
		{"muting oneself", mod, `{"type":"mute","userId":"mod"}`, "forbidden"},
		{"a moderator banning a service", mod, `{"type":"ban","userId":"bridge"}`, "forbidden"},
		{"a moderator muting a service", mod, `{"type":"mute","userId":"bridge"}`, "forbidden"},
		{"no userId", mod, `{"type":"ban"}`, "invalid_user_id"},
		{"a bad userId", mod, `{"type":"mute","userId":""}`, "invalid_user_id"},
		{"negative seconds", mod, `{"type":"ban","userId":"x","seconds":-1}`, "invalid_seconds"},
		{"too many seconds", mod, `{"type":"ban","userId":"x","seconds":99999999999}`, "invalid_seconds"},
		{"a reason that is no text", mod, `{"type":"kick","userId":"alice","reason":5}`, "invalid_reason"},
		{"slow mode without seconds", mod, `{"type":"slow_mode"}`, "invalid_seconds"},
		{"unmuting the unmuted", mod, `{"type":"unmute","userId":"alice"}`, "not_found"},
	} {
		e.send(tt.who, tt.frame)
		got := tt.who.take()
		if len(got) != 1 || frameOf(t, got[0])["code"] != tt.code {
			t.Errorf("%s: got %q, want %s", tt.name, got, tt.code)
		}
	}
	takeAll(member, mod, svc, open)
	// A service may do all a moderator does, a service's ban included.
	e.send(svc, `{"type":"mute","userId":"alice","seconds":5}`)
	if got := member.take(); len(got) != 1 || frameOf(t, got[0])["by"] != "bridge" {
		t.Errorf("a service's mute: %q", got)
	}
}

func TestResumeSeesModeration(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		e.send(mod, `{"type":"message","text":"m1"}`) // 1
		mod.take()
		e.send(mod, `{"type":"ban","userId":"troll"}`)   // 2
		e.send(mod, `{"type":"message","text":"m3"}`)    // 3
		e.send(mod, `{"type":"mute","userId":"noisy"}`)  // 4
		e.send(mod, `{"type":"unban","userId":"troll"}`) // 5
		r := e.connectWith(room.Conn{User: "reader", Role: protocol.RoleMember})
		e.send(r, `{"type":"join","since":1}`)
		got := r.take()
		var h struct {
			Messages  []protocol.StoredMessage
			Changes   []map[string]any
			Truncated bool
		}
		if len(got) != 4 || json.Unmarshal([]byte(got[2]), &h) != nil || got[3] != readState(0, 2) {
			t.Fatalf("resume got %q", got)
		}
		if len(h.Messages) != 1 || h.Messages[0].ID != 3 || h.Truncated {
			t.Errorf("messages %+v truncated %v, want 3 alone", h.Messages, h.Truncated)
		}
		var types []any
		for _, c := range h.Changes {
			types = append(types, c["type"])
		}
		if want := []any{"user_banned", "user_muted", "user_unbanned"}; len(types) != 3 || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
			t.Errorf("changes %v, want %v", types, want)
		}
	})
}

func TestTheAuditLogRecordsEveryAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	mod := e.signedIn("mod", protocol.RoleModerator)
	alice := e.signedIn("alice", protocol.RoleMember)
	e.send(alice, `{"type":"message","text":"oops"}`)
	e.send(alice, `{"type":"message","text":"mine"}`)
	e.send(alice, `{"type":"delete","id":2}`) // her own: no moderation
	e.send(mod, `{"type":"delete","id":1}`)   // a moderator's: moderation
	e.send(mod, `{"type":"mute","userId":"alice","seconds":60,"reason":"cool off"}`)
	e.send(mod, `{"type":"slow_mode","seconds":5}`)
	e.send(mod, `{"type":"kick","userId":"alice"}`)
	var got []string
	for _, a := range e.host.store.actions {
		got = append(got, a.Kind+":"+a.UserID+":"+a.By+":"+a.Reason)
	}
	want := []string{"delete:alice:mod:", "mute:alice:mod:cool off", "slow_mode::mod:", "kick:alice:mod:"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit %q, want %q", got, want)
	}
}

// TestAServiceSeenOnlyThroughTheAPIIsStillAService: backends mostly use the
// server API, not a socket; a moderator may not ban or mute them either.
func TestAServiceSeenOnlyThroughTheAPIIsStillAService(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		mod := e.signedIn("mod", protocol.RoleModerator)
		mod.take()
		if status, body := e.room.Post(e.host, room.Caller{UserID: "bridge", Role: protocol.RoleService}, []byte(`{"text":"hi"}`), ""); status != 201 {
			t.Fatalf("post: %d %s", status, body)
		}
		mod.take()
		e.send(mod, `{"type":"ban","userId":"bridge"}`)
		e.expectError(mod, "forbidden")
		e.send(mod, `{"type":"mute","userId":"bridge"}`)
		e.expectError(mod, "forbidden")
	})
}
