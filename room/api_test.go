package room_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

var (
	service   = room.Caller{UserID: "bridge", Role: protocol.RoleService}
	moderator = room.Caller{UserID: "mod", Role: protocol.RoleModerator}
)

func TestServerAPIPost(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a := e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		a.take()
		status, body := e.room.Post(e.host, service, []byte(`{"text":"deployed <v2>","userId":"ci"}`), "")
		if status != 201 || frameOf(t, string(body))["id"] != float64(1) || frameOf(t, string(body))["timestamp"] != ts {
			t.Fatalf("post: %d %s", status, body)
		}
		e.expect(a, msg(1, "ci", "deployed <v2>"))
		status, body = e.room.Post(e.host, moderator, []byte(`{"text":"hello"}`), "")
		if status != 201 {
			t.Fatalf("a moderator's own post: %d %s", status, body)
		}
		e.expect(a, msg(2, "mod", "hello"))
		for _, tt := range []struct {
			name   string
			c      room.Caller
			body   string
			status int
			code   string
		}{
			{"a moderator posting as another", moderator, `{"text":"x","userId":"alice"}`, 403, "forbidden"},
			{"not JSON", service, `text=hi`, 400, "invalid_json"},
			{"no text", service, `{"userId":"ci"}`, 400, "invalid_message"},
			{"a text too long", service, `{"text":"` + strings.Repeat("x", 4097) + `"}`, 400, "message_too_long"},
			{"a bad userId", service, `{"text":"x","userId":"a\u202eb"}`, 400, "invalid_user_id"},
		} {
			status, body := e.room.Post(e.host, tt.c, []byte(tt.body), "")
			if status != tt.status || frameOf(t, string(body))["error"] != tt.code {
				t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.code)
			}
		}
		e.expect(a)
	})
}

func TestServerAPIPostIsIdempotent(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a := e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		a.take()
		s1, b1 := e.room.Post(e.host, service, []byte(`{"text":"once","userId":"ci"}`), "key-1")
		e.advance(30 * 60 * 1e9) // a retry half an hour later
		s2, b2 := e.room.Post(e.host, service, []byte(`{"text":"once","userId":"ci"}`), "key-1")
		if s1 != 201 || s2 != 201 || string(b1) != string(b2) {
			t.Errorf("a retried post: %d %s, then %d %s; want the first answer twice", s1, b1, s2, b2)
		}
		e.expect(a, msg(1, "ci", "once"))
		if n := len(e.host.store.rows); n != 1 {
			t.Errorf("%d messages stored, want 1", n)
		}
		// Another key is another message.
		e.room.Post(e.host, service, []byte(`{"text":"once","userId":"ci"}`), "key-2")
		if n := len(e.host.store.rows); n != 2 {
			t.Errorf("%d messages stored after a second key, want 2", n)
		}
	})
}

func TestServerAPIModeration(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		bob := e.signedIn("bob", protocol.RoleMember)
		watcher := e.signedIn("watcher", protocol.RoleMember)
		e.send(bob, `{"type":"message","text":"spam"}`)
		takeAll(bob, watcher)
		if status, body := e.room.DeleteMessage(e.host, moderator, "1"); status != 204 || body != nil {
			t.Errorf("delete: %d %s", status, body)
		}
		e.expect(watcher, deleted(2, 1, "mod"))
		for _, tt := range []struct{ id, code string }{{"1", "not_found"}, {"x", "invalid_id"}, {"0", "invalid_id"}} {
			status, body := e.room.DeleteMessage(e.host, moderator, tt.id)
			if frameOf(t, string(body))["error"] != tt.code || status < 400 {
				t.Errorf("delete %s: %d %s, want %s", tt.id, status, body, tt.code)
			}
		}
		if status, body := e.room.Kick(e.host, moderator, []byte(`{"userId":"nobody"}`)); status != 404 {
			t.Errorf("kick nobody: %d %s", status, body)
		}
		if status, body := e.room.Kick(e.host, moderator, []byte(`{"userId":"bob","reason":"calm down"}`)); status != 204 {
			t.Errorf("kick bob: %d %s", status, body)
		}
		closedWith(t, bob, 4003, "kicked")
		watcher.take()
		if status, body := e.room.Ban(e.host, service, []byte(`{"userId":"bob","seconds":60,"reason":"again"}`)); status != 204 {
			t.Errorf("ban bob: %d %s", status, body)
		}
		if status, body := e.room.Ban(e.host, moderator, []byte(`{"userId":"mod"}`)); status != 403 {
			t.Errorf("a moderator banning himself: %d %s", status, body)
		}
		if status, body := e.room.Ban(e.host, moderator, []byte(`{"seconds":60}`)); status != 400 {
			t.Errorf("a ban without userId: %d %s", status, body)
		}
		status, body := e.room.Bans(e.host, "r")
		if status != 200 || !strings.Contains(string(body), `"userId":"bob"`) {
			t.Errorf("bans: %d %s", status, body)
		}
		if status, body := e.room.Unban(e.host, moderator, "bob"); status != 204 {
			t.Errorf("unban: %d %s", status, body)
		}
		if status, _ := e.room.Unban(e.host, moderator, "bob"); status != 404 {
			t.Errorf("unban again: %d, want 404", status)
		}
		if _, body := e.room.Bans(e.host, "r"); string(body) != `{"room":"r","bans":[]}` {
			t.Errorf("bans after unban: %s", body)
		}
		// The log, newest first, paged.
		status, body = e.room.Audit(e.host, "r", url.Values{"limit": {"2"}})
		page := frameOf(t, string(body))
		entries, _ := page["entries"].([]any)
		if status != 200 || len(entries) != 2 || page["truncated"] != true || entries[0].(map[string]any)["action"] != "unban" {
			t.Fatalf("audit: %d %s", status, body)
		}
		before := entries[1].(map[string]any)["id"].(float64)
		_, body = e.room.Audit(e.host, "r", url.Values{"before": {strconv.Itoa(int(before))}})
		rest, _ := frameOf(t, string(body))["entries"].([]any)
		var actions []string
		for _, x := range rest {
			actions = append(actions, x.(map[string]any)["action"].(string))
		}
		if strings.Join(actions, ",") != "kick,delete" {
			t.Errorf("the older entries: %q, want kick, delete", actions)
		}
		if status, _ := e.room.Audit(e.host, "r", url.Values{"before": {"x"}}); status != 400 {
			t.Errorf("before=x: %d", status)
		}
	})
}
