package e2e

// Tests of community rooms against wrangler dev: edit and delete, the
// moderation frames, the server API, and that all of it survives eviction
// and a restart.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom/gochat/internal/devserver"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// community is a server of its own for the tests that force evictions
// between their steps: the test config on the newer workerd with tokens, as
// the protected server, but without the short limits, and evicting nobody
// else's objects.
var (
	communityOnce sync.Once
	communitySrv  *server
	communityErr  error
)

func communityServer(t *testing.T) *server {
	t.Helper()
	communityOnce.Do(func() {
		communitySrv, communityErr = devserver.Start(devserver.Options{Name: "community", Root: root, Config: "e2e/wrangler.toml",
			Env:  []string{"MINIFLARE_WORKERD_PATH=" + devserver.NextWorkerd(root)},
			Args: []string{"--var", "AUTH_SECRET:" + testSecret, "--var", "AUTH_AUDIENCE:" + testAudience, "--var", "AUTH_ISSUER:" + testIssuer}})
	})
	if communityErr != nil {
		t.Fatal(communityErr)
	}
	return communitySrv
}

// roleToken mints a protected-server token for user with a role.
func roleToken(t *testing.T, user, role string) string {
	t.Helper()
	return signed(t, testSecret, jwt.MapClaims{"sub": user, "aud": testAudience, "iss": testIssuer, "role": role,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
}

// withRole connects to room on srv as user with role, and joins.
func withRole(t *testing.T, srv *server, room, user, role string) *client {
	t.Helper()
	c := dial(t, srv, "/api/chat/"+room+"?token="+roleToken(t, user, role), user)
	c.send(`{"type":"join"}`)
	c.expect(joinedT(user))
	c.next() // presence
	if f := c.next(); !strings.HasPrefix(f.data, `{"type":"room_settings"`) && !strings.HasPrefix(f.data, `{"type":"history"`) {
		t.Fatalf("%s: got %s, want room_settings or the history", user, f.data)
	} else if strings.HasPrefix(f.data, `{"type":"room_settings"`) {
		c.next() // the history
	}
	c.readState()
	return c
}

// call makes an HTTP request with a bearer token and an optional body.
func call(t *testing.T, method, url, token, body string, header map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, url, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestCommunityEditDeleteAcrossEvictions(t *testing.T) {
	t.Parallel()
	srv := communityServer(t)
	room := uniqueRoom(t)
	alice := withRole(t, srv, room, "alice", "member")
	mod := withRole(t, srv, room, "mod", "moderator")
	alice.expect(joinedT("mod"))
	step := func() { evictOn(t, srv) } // an eviction between every step
	alice.send(`{"type":"message","text":"helo"}`)
	m1 := alice.nextMessage()
	mod.nextMessage()
	step()
	alice.send(`{"type":"edit","id":` + strconv.FormatInt(m1.ID, 10) + `,"text":"hello <b>"}`)
	edit := `{"type":"message_edited","id":"#","messageId":` + strconv.FormatInt(m1.ID, 10) + `,"userId":"alice","text":"hello <b>","editedAt":"*"}`
	alice.expect(edit)
	mod.expect(edit)
	step()
	mod.send(`{"type":"edit","id":` + strconv.FormatInt(m1.ID, 10) + `,"text":"mine now"}`)
	mod.expect(errT("forbidden"))
	step()
	mod.send(`{"type":"message","text":"rules"}`)
	m2 := mod.nextMessage()
	alice.nextMessage()
	step()
	alice.send(`{"type":"delete","id":` + strconv.FormatInt(m2.ID, 10) + `}`)
	alice.expect(errT("forbidden"))
	step()
	mod.send(`{"type":"delete","id":` + strconv.FormatInt(m1.ID, 10) + `}`)
	del := `{"type":"message_deleted","id":"#","messageId":` + strconv.FormatInt(m1.ID, 10) + `,"by":"mod","timestamp":"*"}`
	alice.expect(del)
	mod.expect(del)
	step()
	// The API and a newcomer see the current state: alice's message gone.
	status, body := call(t, "GET", srv.HTTP+"/api/rooms/"+room+"/messages", roleToken(t, "x", "member"), "", nil)
	if status != 200 || strings.Contains(body, "hello") || !strings.Contains(body, `"text":"rules"`) {
		t.Errorf("messages after the deletion: %d %s", status, body)
	}
	alice.send(`{"type":"delete","id":` + strconv.FormatInt(m1.ID, 10) + `}`)
	alice.expect(errT("not_found"))
}

func TestCommunityResumeSeesEveryChange(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	w := withRole(t, protected, room, "writer", "moderator")
	var ids []int64
	for i := 1; i <= 4; i++ {
		w.send(`{"type":"message","text":"m` + strconv.Itoa(i) + `"}`)
		ids = append(ids, w.nextMessage().ID)
	}
	since := ids[3]
	// While a reader is away: an edit, a deletion, a ban, a new message.
	w.send(`{"type":"edit","id":` + strconv.FormatInt(ids[0], 10) + `,"text":"m1!"}`)
	w.next()
	w.send(`{"type":"delete","id":` + strconv.FormatInt(ids[1], 10) + `}`)
	w.next()
	w.send(`{"type":"ban","userId":"troll","seconds":600}`)
	w.next()
	w.send(`{"type":"message","text":"m5"}`)
	m5 := w.nextMessage()
	r := dial(t, protected, "/api/chat/"+room+"?token="+roleToken(t, "reader", "member"), "reader")
	r.send(`{"type":"join","since":` + strconv.FormatInt(since, 10) + `}`)
	r.expect(joinedT("reader"))
	r.next() // presence
	var h struct {
		Messages  []wireMsg
		Changes   []map[string]any
		Truncated bool
	}
	if err := json.Unmarshal([]byte(r.next().data), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].ID != m5.ID || h.Truncated {
		t.Errorf("messages %+v truncated %v, want m5 alone", h.Messages, h.Truncated)
	}
	var kinds []string
	for _, c := range h.Changes {
		kinds = append(kinds, c["type"].(string))
	}
	if strings.Join(kinds, ",") != "message_edited,message_deleted,user_banned" {
		t.Errorf("changes %q", kinds)
	}
}

func TestCommunityModerationFrames(t *testing.T) {
	t.Parallel()
	srv := communityServer(t)
	step := func() { evictOn(t, srv) } // an eviction between every step
	room := uniqueRoom(t)
	mod := withRole(t, srv, room, "mod", "moderator")
	bob := withRole(t, srv, room, "bob", "member")
	mod.expect(joinedT("bob"))
	bob.send(`{"type":"kick","userId":"mod"}`)
	bob.expect(errT("forbidden"))
	step()
	// Mute: bob reads, but cannot post.
	mod.send(`{"type":"mute","userId":"bob","seconds":600}`)
	muted := `{"type":"user_muted","id":"#","userId":"bob","by":"mod","until":"*","timestamp":"*"}`
	mod.expect(muted)
	bob.expect(muted)
	bob.send(`{"type":"message","text":"hey"}`)
	if f := frameMap(t, bob.next().data); f["code"] != "muted" || f["until"] == nil {
		t.Errorf("a muted message got %v", f)
	}
	step()
	mod.send(`{"type":"unmute","userId":"bob"}`)
	mod.next()
	bob.next()
	step()
	// Slow mode: one message per 30 s for members.
	mod.send(`{"type":"slow_mode","seconds":30}`)
	mod.expect(`{"type":"room_settings","slowModeSeconds":30}`)
	bob.expect(`{"type":"room_settings","slowModeSeconds":30}`)
	bob.send(`{"type":"message","text":"one"}`)
	bob.nextMessage()
	mod.nextMessage()
	step()
	bob.send(`{"type":"message","text":"two"}`)
	if f := frameMap(t, bob.next().data); f["code"] != "slow_mode" || f["retryAfterMs"] == nil {
		t.Errorf("a second message in slow mode got %v", f)
	}
	step()
	// A joiner hears the setting after presence.
	late := dial(t, srv, "/api/chat/"+room+"?token="+roleToken(t, "late", "member"), "late")
	late.send(`{"type":"join"}`)
	late.expect(joinedT("late"))
	late.next() // presence
	late.expect(`{"type":"room_settings","slowModeSeconds":30}`)
	late.next() // history
	late.readState()
	mod.next()
	bob.next()
	step()
	// Kick, then bob comes back; ban, and he cannot.
	mod.send(`{"type":"kick","userId":"bob","reason":"cool off"}`)
	late.expect(`{"type":"user_kicked","id":"#","userId":"bob","by":"mod","reason":"cool off","timestamp":"*"}`, leftT("bob"))
	bob.drain()
	if code := bob.closedCode(); code != 4003 {
		t.Errorf("kicked bob closed with %d, want 4003", code)
	}
	bob = withRole(t, srv, room, "bob", "member")
	step()
	mod.send(`{"type":"ban","userId":"bob","seconds":3}`)
	bob.drain()
	if code := bob.closedCode(); code != 4003 {
		t.Errorf("banned bob closed with %d, want 4003", code)
	}
	refusedBanned(t, srv.WS+"/api/chat/"+room+"?token="+roleToken(t, "bob", "member"), true)
	step()
	// The ban ends by itself.
	waitFor(t, "the 3 s ban to end", func() bool {
		status, _ := call(t, "GET", srv.HTTP+"/api/rooms/"+room+"/bans", roleToken(t, "mod", "moderator"), "", nil)
		_, body := call(t, "GET", srv.HTTP+"/api/rooms/"+room+"/bans", roleToken(t, "mod", "moderator"), "", nil)
		return status == 200 && strings.Contains(body, `"bans":[]`)
	})
	withRole(t, srv, room, "bob", "member")
}

func TestCommunityServerAPI(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	api := protected.HTTP + "/api/rooms/" + room
	svc, mod, member := roleToken(t, "bridge", "service"), roleToken(t, "mod", "moderator"), roleToken(t, "alice", "member")
	watcher := withRole(t, protected, room, "watcher", "member")
	status, body := call(t, "POST", api+"/messages", svc, `{"text":"deploy done","userId":"ci"}`, nil)
	if status != 201 || !strings.Contains(body, `"id":`) || !strings.Contains(body, `"timestamp":"`) {
		t.Fatalf("post: %d %s", status, body)
	}
	watcher.expect(msgT("ci", "deploy done"))
	var posted struct{ ID int64 }
	json.Unmarshal([]byte(body), &posted)
	// A retried publish stores one message.
	key := map[string]string{"Idempotency-Key": "deploy-" + room}
	s1, b1 := call(t, "POST", api+"/messages", svc, `{"text":"once"}`, key)
	s2, b2 := call(t, "POST", api+"/messages", svc, `{"text":"once"}`, key)
	if s1 != 201 || s2 != 201 || b1 != b2 {
		t.Errorf("a retried publish: %d %s then %d %s", s1, b1, s2, b2)
	}
	watcher.expect(msgT("bridge", "once"))
	watcher.quiet()
	for _, tt := range []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"a member's token", "POST", "/messages", member, `{"text":"x"}`, 403, "forbidden"},
		{"no token", "POST", "/kick", "", `{"userId":"x"}`, 401, "unauthorized"},
		{"not JSON", "POST", "/messages", svc, `text=x`, 400, "invalid_json"},
		{"a body over 64 KiB", "POST", "/messages", svc, `{"text":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body_too_large"},
		{"an unknown message", "DELETE", "/messages/999999", mod, "", 404, "not_found"},
		{"an unknown user", "POST", "/kick", mod, `{"userId":"nobody"}`, 404, "not_found"},
		{"unban who is not banned", "DELETE", "/bans/nobody", mod, "", 404, "not_found"},
		{"a token for other rooms", "POST", "/kick", signed(t, testSecret, jwt.MapClaims{"sub": "m", "aud": testAudience,
			"iss": testIssuer, "role": "moderator", "rooms": []string{"elsewhere"}, "iat": time.Now().Unix(),
			"exp": time.Now().Add(time.Hour).Unix()}), `{"userId":"watcher"}`, 403, "forbidden_room"},
	} {
		status, body := call(t, tt.method, api+tt.path, tt.token, tt.body, nil)
		if status != tt.status || !strings.Contains(body, `"error":"`+tt.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}
	if status, body := call(t, "DELETE", api+"/messages/"+strconv.FormatInt(posted.ID, 10), mod, "", nil); status != 204 || body != "" {
		t.Errorf("delete: %d %s", status, body)
	}
	watcher.expect(`{"type":"message_deleted","id":"#","messageId":` + strconv.FormatInt(posted.ID, 10) + `,"by":"mod","timestamp":"*"}`)
	if status, body := call(t, "POST", api+"/bans", mod, `{"userId":"troll","reason":"spam"}`, nil); status != 204 {
		t.Errorf("ban: %d %s", status, body)
	}
	watcher.expect(`{"type":"user_banned","id":"#","userId":"troll","by":"mod","reason":"spam","until":null,"timestamp":"*"}`)
	if status, body := call(t, "GET", api+"/bans", mod, "", nil); status != 200 || !strings.Contains(body, `{"userId":"troll","until":null,"reason":"spam","by":"mod","at":"`) {
		t.Errorf("bans: %d %s", status, body)
	}
	if status, body := call(t, "DELETE", api+"/bans/troll", svc, "", nil); status != 204 {
		t.Errorf("unban: %d %s", status, body)
	}
	if status, body := call(t, "POST", api+"/kick", mod, `{"userId":"watcher","reason":"bye"}`, nil); status != 204 {
		t.Errorf("kick: %d %s", status, body)
	}
	status, body = call(t, "GET", api+"/audit?limit=10", mod, "", nil)
	var page struct {
		Entries []struct{ Action, UserID, By string }
	}
	json.Unmarshal([]byte(body), &page)
	var log []string
	for _, e := range page.Entries {
		log = append(log, e.Action+":"+e.UserID+":"+e.By)
	}
	if status != 200 || strings.Join(log, ",") != "kick:watcher:mod,unban:troll:bridge,ban:troll:mod,delete:ci:mod" {
		t.Errorf("audit: %d %q", status, log)
	}
	// Open mode has no roles: the server API is closed.
	if status, body := call(t, "POST", dev.HTTP+"/api/rooms/"+room+"/kick", "", `{"userId":"x"}`, nil); status != 403 || !strings.Contains(body, `"forbidden"`) {
		t.Errorf("open mode: %d %s", status, body)
	}
}

// TestCommunitySurvivesRestart: bans, slow mode, edits and the audit log are
// in the room's SQLite, across a restart of wrangler dev.
func TestCommunitySurvivesRestart(t *testing.T) {
	t.Parallel()
	args := []string{"--var", "AUTH_SECRET:" + testSecret, "--var", "AUTH_AUDIENCE:" + testAudience, "--var", "AUTH_ISSUER:" + testIssuer}
	srv := ownServer(t, devserver.Options{Name: "community-restart", Config: "wrangler.toml", Args: args})
	room := uniqueRoom(t)
	mod := withRole(t, srv, room, "mod", "moderator")
	mod.send(`{"type":"message","text":"helo"}`)
	m := mod.nextMessage()
	mod.send(`{"type":"edit","id":` + strconv.FormatInt(m.ID, 10) + `,"text":"hello"}`)
	mod.next()
	mod.send(`{"type":"ban","userId":"bob"}`)
	mod.next()
	mod.send(`{"type":"slow_mode","seconds":60}`)
	mod.next()
	srv.Stop()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	refusedBanned(t, srv.WS+"/api/chat/"+room+"?token="+roleToken(t, "bob", "member"), false)
	c := dial(t, srv, "/api/chat/"+room+"?token="+roleToken(t, "carol", "member"), "carol")
	c.send(`{"type":"join"}`)
	c.expect(joinedT("carol"))
	c.next() // presence
	c.expect(`{"type":"room_settings","slowModeSeconds":60}`)
	var h struct{ Messages []map[string]any }
	if err := json.Unmarshal([]byte(c.next().data), &h); err != nil || len(h.Messages) != 1 ||
		h.Messages[0]["text"] != "hello" || h.Messages[0]["editedAt"] == nil || h.Messages[0]["id"] != float64(m.ID) {
		t.Errorf("history after restart: %+v, %v", h, err)
	}
	if status, body := call(t, "GET", srv.HTTP+"/api/rooms/"+room+"/audit", roleToken(t, "mod", "moderator"), "", nil); status != 200 ||
		!strings.Contains(body, `"action":"slow_mode"`) || !strings.Contains(body, `"action":"ban"`) {
		t.Errorf("audit after restart: %d %s", status, body)
	}
}

func frameMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("frame %s: %v", s, err)
	}
	return v
}

// closedCode is the close code the server ended c with (after drain).
func (c *client) closedCode() int { return int(websocket.CloseStatus(c.err)) }

// refusedBanned dials and expects 403 {"error":"banned","message","until"},
// with until a timestamp (timed) or null.
func refusedBanned(t *testing.T, url string, timed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: withIP(nil)})
	if err == nil {
		conn.CloseNow()
		t.Fatal("a banned user's upgrade succeeded")
	}
	if res == nil || res.StatusCode != 403 {
		t.Fatalf("a banned user's upgrade: %v, want 403", err)
	}
	body, _ := io.ReadAll(res.Body)
	v := frameMap(t, string(body))
	_, isTime := v["until"].(string)
	if v["error"] != "banned" || v["message"] == "" || isTime != timed || (!timed && v["until"] != nil) {
		t.Errorf("body %s, want banned with until", body)
	}
}
