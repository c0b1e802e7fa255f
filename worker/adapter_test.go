//go:build js && wasm

package main

// These tests run the adapter under Node with a fake of the runtime
// (worker/testdata/wasm_exec_fake.cjs, through scripts/go_js_wasm_exec): the
// glue's helpers over recording fakes of WebSockets and a DurableObjectState.
// They pin what the adapter asks of the runtime; the room's rules are tested
// natively in room/, and the whole against workerd in e2e/.

import (
	"slices"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/internal/sqlstore"
	"github.com/chatroom/gochat/room"
)

var jsFake = jsContext.Get("fake")

func fakeSocket(name string, attachment any) js.Value {
	return jsFake.Call("socket", name, attachment)
}

// fakeRoom registers an object over a fake state, as the glue's constructor
// does, and makes it the current object for the Wasm imports.
func fakeRoom(t *testing.T, env map[string]any, sockets ...any) (*roomState, js.Value) {
	t.Helper()
	state := jsFake.Call("state", t.Name(), js.ValueOf(sockets))
	jsEvent.Set(eventCtx, state)
	jsEvent.Set(eventEnv, js.ValueOf(env))
	key := roomInit()
	jsEvent.Set(eventCtx, js.Undefined())
	jsEvent.Set(eventEnv, js.Undefined())
	if key == 0 {
		t.Fatal("roomInit failed")
	}
	jsContext.Set("current", map[string]any{"ctx": state})
	return rooms[int(key)], state
}

func strs(v js.Value) []string {
	out := make([]string, v.Length())
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out
}

func TestRoomInitInstallsThePingAutoResponse(t *testing.T) {
	_, state := fakeRoom(t, nil)
	pair := state.Get("autoResponse")
	if got := pair.Get("request").String() + " " + pair.Get("response").String(); got != `{"type":"ping"} {"type":"pong"}` {
		t.Errorf("auto-response = %s", got)
	}
}

func TestSocketModes(t *testing.T) {
	st, state := fakeRoom(t, nil)
	t.Run("direct", func(t *testing.T) {
		ws := fakeSocket("a", nil)
		s := &socket{st: st, ws: ws}
		if err := s.Send([]byte(`{"type":"pong"}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAttachment([]byte(`{"s":1}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Attachment(); string(got) != `{"s":1}` {
			t.Errorf("attachment read back %q", got)
		}
		s.SetTag(42)
		if ws.Get(tagProperty).Float() != 42 || s.Tag() != 42 {
			t.Errorf("tag = %v", ws.Get(tagProperty))
		}
		if err := s.Close(1000, "bye"); err != nil {
			t.Fatal(err)
		}
		if got := strs(ws.Get("sent")); !slices.Equal(got, []string{`{"type":"pong"}`}) {
			t.Errorf("sent %q", got)
		}
		if c := ws.Get("closes").Index(0); c.Index(0).Int() != 1000 || c.Index(1).String() != "bye" {
			t.Errorf("closed with %v %v", c.Index(0), c.Index(1))
		}
		if !s.AutoResponseAt().IsZero() {
			t.Error("a socket never pinged has an auto-response time")
		}
		state.Get("autoTimes").Call("set", ws, 1_700_000_000_500)
		if got := s.AutoResponseAt(); !got.Equal(time.UnixMilli(1_700_000_000_500)) {
			t.Errorf("AutoResponseAt = %v", got)
		}
		ws.Set("failSend", true)
		if s.Send([]byte("x")) == nil {
			t.Error("a send that threw reported no error")
		}
	})
	t.Run("pending: the event's socket, fetched only when used", func(t *testing.T) {
		s := &socket{st: st, tag: 7, hasTag: true, pending: true}
		if s.Tag() != 7 {
			t.Errorf("Tag = %d, want the glue's 7", s.Tag())
		}
		ws := fakeSocket("b", nil)
		jsEvent.Set(eventSocket, ws)
		defer jsEvent.Set(eventSocket, js.Undefined())
		if err := s.Send([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if got := strs(ws.Get("sent")); !slices.Equal(got, []string{"hello"}) {
			t.Errorf("the event's socket got %q", got)
		}
	})
	t.Run("listed: a rebuild's sockets, attachments handed over once", func(t *testing.T) {
		open := fakeSocket("c", `{"s":3,"u":"carol"}`)
		bare := fakeSocket("d", nil)
		closing := fakeSocket("e", `{"s":5,"u":"eve"}`)
		closing.Set("readyState", 2)
		state.Set("sockets", js.ValueOf([]any{open, closing, bare}))
		h := &host{st: st}
		all := h.Sockets()
		if len(all) != 3 || !all[0].Open() || all[1].Open() || !all[2].Open() {
			t.Fatalf("Sockets() = %d sockets, want open, closing, open", len(all))
		}
		got := []room.Socket{all[0], all[2]}
		first := got[0].(*socket)
		att, ok := first.Predecoded()
		if !ok || att == nil || att.SID != 3 || att.UserID != "carol" {
			t.Errorf("Predecoded = %+v, %v", att, ok)
		}
		if _, ok := first.Predecoded(); ok {
			t.Error("Predecoded handed the attachment over twice")
		}
		if att, ok := got[1].(*socket).Predecoded(); !ok || att != nil {
			t.Errorf("a socket without attachment: Predecoded = %+v, %v; want nil, true", att, ok)
		}
		if err := got[1].Send([]byte("to d")); err != nil {
			t.Fatal(err)
		}
		if sent := strs(bare.Get("sent")); !slices.Equal(sent, []string{"to d"}) {
			t.Errorf("the listed socket got %q", sent)
		}
	})
}

func TestBroadcastSetsTheFanOutOncePerMembership(t *testing.T) {
	st, _ := fakeRoom(t, nil)
	h := &host{st: st}
	a, b := fakeSocket("a", nil), fakeSocket("b", nil)
	members := []room.Socket{&socket{st: st, ws: a}, &socket{st: st, ws: b}}
	before := jsContext.Get("fanouts").Length()
	for i := range 3 {
		if failed := h.Broadcast([]byte("m"+string(rune('0'+i))), members, -1); failed != nil {
			t.Fatalf("failed sends %v", failed)
		}
	}
	if n := jsContext.Get("fanouts").Length() - before; n != 1 {
		t.Errorf("setFanout called %d times for one membership, want 1", n)
	}
	if got := strs(b.Get("sent")); !slices.Equal(got, []string{"m0", "m1", "m2"}) {
		t.Errorf("b got %q", got)
	}
	// A new membership is a new slice: the list is set again.
	b.Set("failSend", true)
	next := []room.Socket{members[1], members[0]}
	failed := h.Broadcast([]byte("x"), next, -1)
	if n := jsContext.Get("fanouts").Length() - before; n != 2 {
		t.Errorf("setFanout called %d times for two memberships, want 2", n)
	}
	if len(failed) != 1 || failed[0] != members[1] {
		t.Errorf("failed = %v, want b's socket", failed)
	}
}

func TestSQLDB(t *testing.T) {
	st, state := fakeRoom(t, nil)
	sql := state.Get("storage").Get("sql")
	sql.Set("answers", js.ValueOf([]any{
		[]any{"SELECT 'text'", "hello"},
		[]any{"SELECT 5", 5},
		[]any{"SELECT null", nil},
		[]any{"SELECT boom", js.Global().Get("Error").New("SQLITE_ERROR")},
	}))
	db := sqlDB{st: st}
	for _, tt := range []struct {
		query string
		want  any
	}{
		{"SELECT 'text'", "hello"},
		{"SELECT 5", float64(5)},
		{"SELECT null", nil},
		{"SELECT nothing", nil},
	} {
		if got, err := db.Value(tt.query); err != nil || got != tt.want {
			t.Errorf("Value(%q) = %#v, %v; want %#v", tt.query, got, err, tt.want)
		}
	}
	if _, err := db.Value("SELECT boom"); err == nil || !strings.Contains(err.Error(), "SQLITE_ERROR") {
		t.Errorf("a throwing statement: err = %v", err)
	}
	if _, err := db.Value("SELECT ?", 3); err != nil {
		t.Fatal(err)
	}
	last := sql.Get("statements").Index(sql.Get("statements").Length() - 1)
	if last.Index(1).Int() != 3 {
		t.Errorf("binding passed as %v", last.Index(1))
	}
	frame := []byte(`{"type":"message","id":1,"userId":"a","text":"hi","timestamp":"t"}`)
	if err := db.Insert(frame); err != nil {
		t.Fatal(err)
	}
	ins := sql.Get("statements").Index(sql.Get("statements").Length() - 1)
	if ins.Index(0).String() != sqlstore.InsertMessage || ins.Index(1).String() != string(frame) {
		t.Errorf("Insert ran %v", ins)
	}
	sql.Set("answers", js.ValueOf([]any{[]any{"INSERT", js.Global().Get("Error").New("UNIQUE constraint failed")}}))
	if err := db.Insert(frame); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a failed insert: err = %v", err)
	}
}

func TestConfigFromIsReadOncePerEnv(t *testing.T) {
	env := js.ValueOf(map[string]any{"HISTORY_ON_JOIN": "7", "BLOCKED_WORDS": "Darn"})
	cfg := configFrom(env)
	if cfg.JoinHistory != 7 || !slices.Equal(cfg.BlockedWords, []string{"darn"}) {
		t.Errorf("configFrom = %+v", cfg)
	}
	env.Set("HISTORY_ON_JOIN", "9")
	if again := configFrom(env); again.JoinHistory != 7 {
		t.Errorf("the same env object was read again: %d", again.JoinHistory)
	}
	if other := configFrom(js.ValueOf(map[string]any{"HISTORY_ON_JOIN": "9"})); other.JoinHistory != 9 {
		t.Errorf("a new env object was not read: %d", other.JoinHistory)
	}
}

// request makes a Request as the runtime hands it to the front worker.
func request(url string, headers map[string]any) js.Value {
	return js.Global().Get("Request").New(url, map[string]any{"headers": headers})
}

func TestFrontStripsTheIdentityHeaders(t *testing.T) {
	const secret = "adapter-test-secret"
	now := time.Now()
	token, err := auth.Mint("alice", time.Hour, []byte(secret), now)
	if err != nil {
		t.Fatal(err)
	}
	teamOnly, _ := auth.Mint("alice", time.Hour, []byte(secret), now, "team-*")
	wantExpires := strconv.FormatInt(now.Add(time.Hour+auth.Leeway).Unix(), 10)
	spoofed := map[string]any{"Upgrade": "websocket", userHeader: "mallory", expiresHeader: "99999999999", roleHeader: "service"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range spoofed {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		env     map[string]any
		path    string
		headers map[string]any
		user    string // the forwarded identity, "" for none
	}{
		{"open mode drops a spoofed identity", map[string]any{}, "/api/chat/team", spoofed, ""},
		{"a verified token replaces a spoofed identity", map[string]any{"AUTH_SECRET": secret}, "/api/chat/team",
			with(map[string]any{"Authorization": "Bearer " + token}), "alice"},
		{"the scheme in capitals", map[string]any{"AUTH_SECRET": secret}, "/api/chat/team",
			with(map[string]any{"Authorization": "BEARER " + token}), "alice"},
		{"a token as a subprotocol", map[string]any{"AUTH_SECRET": secret}, "/api/chat/team",
			with(map[string]any{"Sec-WebSocket-Protocol": "gochat, bearer." + token}), "alice"},
		{"a rooms claim that covers the room", map[string]any{"AUTH_SECRET": secret}, "/api/chat/team-a",
			with(map[string]any{"Authorization": "Bearer " + teamOnly}), "alice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := front(request("http://x"+tt.path, tt.headers), js.ValueOf(tt.env))
			if !got.Get("forwarded").Truthy() {
				t.Fatalf("not forwarded: %v", js.Global().Get("JSON").Call("stringify", got))
			}
			user := got.Get("headers").Get(strings.ToLower(userHeader))
			expires := got.Get("headers").Get(strings.ToLower(expiresHeader))
			role := got.Get("headers").Get(strings.ToLower(roleHeader))
			if tt.user == "" && !role.IsUndefined() || tt.user != "" && (role.IsUndefined() || role.String() != "member") {
				t.Errorf("forwarded %s %v, want none in open mode and the token's (member) with one", roleHeader, role)
			}
			if tt.user == "" && (!user.IsUndefined() || !expires.IsUndefined()) {
				t.Errorf("forwarded %s %v, %s %v", userHeader, user, expiresHeader, expires)
			}
			if tt.user != "" && (user.IsUndefined() || user.String() != tt.user || expires.IsUndefined() || expires.String() != wantExpires) {
				t.Errorf("forwarded %s %v, %s %v; want %s, %s", userHeader, user, expiresHeader, expires, tt.user, wantExpires)
			}
		})
	}
	refusals := []struct {
		name   string
		path   string
		header map[string]any
		status int
		code   string
	}{
		{"a bad token never reaches the room", "/api/chat", map[string]any{"Upgrade": "websocket", "Authorization": "Bearer nope"}, 401, "unauthorized"},
		{"a room the token does not open", "/api/chat/random", map[string]any{"Upgrade": "websocket", "Authorization": "Bearer " + teamOnly}, 403, "forbidden_room"},
		{"its history neither", "/api/rooms/random/messages", map[string]any{"Authorization": "Bearer " + teamOnly}, 403, "forbidden_room"},
		{"the lobby is a room too", "/api/chat", map[string]any{"Upgrade": "websocket", "Authorization": "Bearer " + teamOnly}, 403, "forbidden_room"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			got := front(request("http://x"+tt.path, tt.header), js.ValueOf(map[string]any{"AUTH_SECRET": secret}))
			if got.Get("status").Int() != tt.status {
				t.Fatalf("status %v, want %d", got.Get("status"), tt.status)
			}
			if h := got.Get("headers"); h.Call("get", "x-content-type-options").String() != "nosniff" || h.Call("get", "cache-control").String() != "no-store" {
				t.Error("a JSON answer without nosniff and no-store")
			}
		})
	}
}

func TestFrontAsksTheLimiterForUpgradesOnly(t *testing.T) {
	limiter := js.ValueOf(map[string]any{"name": "limiter"})
	for _, tt := range []struct {
		name  string
		path  string
		up    bool
		env   map[string]any
		limit bool
	}{
		{"an upgrade", "/api/chat", true, map[string]any{limiterBinding: limiter}, true},
		{"an upgrade with the limit off", "/api/chat", true, map[string]any{limiterBinding: limiter, "UPGRADE_RATE_LIMIT": "off"}, false},
		{"an upgrade without the binding", "/api/chat", true, map[string]any{}, false},
		{"a history read", "/api/rooms/lobby/messages", false, map[string]any{limiterBinding: limiter}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]any{"CF-Connecting-IP": "203.0.113.9"}
			if tt.up {
				h["Upgrade"] = "websocket"
			}
			got := front(request("http://x"+tt.path, h), js.ValueOf(tt.env))
			if asked := !got.Get("limiter").IsUndefined(); asked != tt.limit {
				t.Fatalf("limiter asked: %v, want %v", asked, tt.limit)
			}
			if tt.limit && (got.Get("key").String() != "203.0.113.9" || got.Get("denied").Get("status").Int() != 429) {
				t.Errorf("key %v, denied %v", got.Get("key"), got.Get("denied").Get("status"))
			}
		})
	}
}

func TestAConversationThroughTheExports(t *testing.T) {
	st, state := fakeRoom(t, map[string]any{"HISTORY_ON_JOIN": "5"})
	key := int32(0)
	for k, v := range rooms {
		if v == st {
			key = int32(k)
		}
	}
	jsEvent.Set(eventRequest, request("http://x/api/chat/lobby", map[string]any{"Upgrade": "websocket", "Sec-WebSocket-Protocol": "gochat, bearer.x"}))
	if roomFetch(key, 0, kindNone) != 1 {
		t.Fatal("roomFetch did not know the key")
	}
	if a := jsEvent.Get(eventAnswer); a.Get("status").Int() != 101 || a.Get("protocol").String() != "gochat" {
		t.Fatalf("answer = %v, protocol %v; want 101 selecting gochat", a.Get("status"), a.Get("protocol"))
	}
	ws := jsEvent.Get(eventAccepted)
	for _, name := range []string{eventRequest, eventAnswer, eventAccepted} {
		jsEvent.Set(name, js.Undefined())
	}
	frame := func(text string) {
		t.Helper()
		n := copy(frameArea[:], text)
		jsEvent.Set(eventSocket, ws)
		defer jsEvent.Set(eventSocket, js.Undefined())
		if roomMessage(key, int32(n), ws.Get(tagProperty).Float(), int32(n), float64(time.Now().UnixMilli())) != 1 {
			t.Fatal("roomMessage did not know the key")
		}
	}
	frame(`{"type":"join","userId":"alice"}`)
	frame(`{"type":"message","text":"hi"}`)
	sent := strs(ws.Get("sent"))
	if len(sent) != 5 || !strings.HasPrefix(sent[0], `{"type":"user_joined","userId":"alice"`) ||
		sent[1] != `{"type":"presence","users":["alice"]}` || sent[2] != `{"type":"history","messages":[]}` ||
		sent[3] != `{"type":"read_state","lastRead":0,"unread":0}` ||
		!strings.HasPrefix(sent[4], `{"type":"message","id":1,"userId":"alice","text":"hi"`) {
		t.Errorf("alice got %q", sent)
	}
	var ran []string
	stmts := state.Get("storage").Get("sql").Get("statements")
	for i := range stmts.Length() {
		ran = append(ran, strings.Fields(stmts.Index(i).Index(0).String())[0])
	}
	// The probes, the messages table and the insert: a room that only chats
	// makes no tables for changes, and no prune trigger before its first
	// message past MAX_STORED_MESSAGES.
	if want := []string{"SELECT", "SELECT", "CREATE", "INSERT"}; !slices.Equal(ran, want) {
		t.Errorf("statements %q, want %q", ran, want)
	}
	// A frame over the limit is never copied: the socket closes with 1009.
	jsEvent.Set(eventSocket, ws)
	roomMessage(key, int32(st.cfg.MaxFrameBytes+1), ws.Get(tagProperty).Float(), kindOversize, 0)
	jsEvent.Set(eventSocket, js.Undefined())
	if c := ws.Get("closes").Index(0); c.Index(0).Int() != 1009 {
		t.Errorf("an oversize frame closed with %v", c.Index(0))
	}
}
