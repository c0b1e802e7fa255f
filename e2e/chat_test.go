package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	goclient "github.com/chatroom/gochat/client"
	"github.com/coder/websocket"
)

func TestHTTPEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
		body   string // exact, or "" for the error shape with code
		code   string
	}{
		{"health", "GET", "/api/health", nil, 200, `{"ok":true}`, ""},
		{"lobby without upgrade", "GET", "/api/chat", nil, 426, "", "upgrade_required"},
		{"room without upgrade", "GET", "/api/chat/general", nil, 426, "", "upgrade_required"},
		{"wrong upgrade", "GET", "/api/chat", map[string]string{"Upgrade": "h2c", "Connection": "Upgrade"}, 426, "", "upgrade_required"},
		{"room with a dot", "GET", "/api/chat/a.b", nil, 400, "", "invalid_room"},
		{"room too long", "GET", "/api/chat/" + strings.Repeat("r", 65), nil, 400, "", "invalid_room"},
		{"empty room", "GET", "/api/chat/", nil, 400, "", "invalid_room"},
		{"nested room", "GET", "/api/chat/a/b", nil, 400, "", "invalid_room"},
		{"encoded space", "GET", "/api/chat/a%20b", nil, 400, "", "invalid_room"},
		{"unknown page", "GET", "/nowhere", nil, 404, "", "not_found"},
		{"unknown", "GET", "/api/nothing", nil, 404, "", "not_found"},
		{"lookalike", "GET", "/api/chatty", nil, 404, "", "not_found"},
		{"post chat", "POST", "/api/chat", nil, 405, "", "method_not_allowed"},
		{"no test hooks in the default config", "GET", "/__test/evict", nil, 404, "", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, tt.method, dev.HTTP+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body bytes.Buffer
			_, _ = body.ReadFrom(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %s)", res.StatusCode, tt.status, body.String())
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q, want JSON", ct)
			}
			if tt.body != "" {
				if body.String() != tt.body {
					t.Errorf("body %s, want %s", body.String(), tt.body)
				}
				return
			}
			if err := match(`{"error":"`+tt.code+`","message":"*"}`, body.String()); err != nil {
				t.Errorf("body %s: %v", body.String(), err)
			}
		})
	}
}

// TestPages checks that the chat page is served at / and /r/{room} from the
// static assets, with the client module beside it.
func TestPages(t *testing.T) {
	t.Parallel()
	home, body, ct := get(t, dev.HTTP+"/", nil)
	if home != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "<html") {
		t.Fatalf("/: %d %s", home, ct)
	}
	for _, path := range []string{"/r/general", "/r/team-1_b"} {
		status, page, ct := get(t, dev.HTTP+path, nil)
		if status != 200 || !strings.HasPrefix(ct, "text/html") || page != body {
			t.Errorf("%s: %d %s, want the same page as /", path, status, ct)
		}
	}
	if status, _, ct := get(t, dev.HTTP+"/chat-client.js", nil); status != 200 || !strings.Contains(ct, "javascript") {
		t.Errorf("/chat-client.js: %d %s", status, ct)
	}
	if status, body, _ := get(t, dev.HTTP+"/r/a.b", nil); status != 400 || match(`{"error":"invalid_room","message":"*"}`, body) != nil {
		t.Errorf("/r/a.b: %d %s", status, body)
	}
}

// TestSeedQuickTest sends the seed README's quick test verbatim: a message
// first (which joins implicitly), then the join (a no-op).
func TestSeedQuickTest(t *testing.T) {
	// raw: sends the README's frames verbatim (a message that joins implicitly, a no-op join, the exact ping).
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	watcher := dial(t, dev, path, "watcher")
	watcher.send(`{"type":"join","userId":"watcher"}`)
	watcher.welcome("watcher")

	c := dial(t, dev, path, "wscat")
	c.send(`{"type":"message","text":"Hello, world!","userId":"user123"}`)
	c.welcome("user123")
	c.expect(msgT("user123", "Hello, world!"))
	watcher.expect(joinedT("user123"), msgT("user123", "Hello, world!"))
	c.send(`{"type":"join","userId":"user123"}`)
	c.quiet()
	watcher.quiet()
	c.send(`{"type":"ping"}`)
	c.expect(`{"type":"pong"}`)
}

func TestLobbyIsSharedAndNamed(t *testing.T) {
	t.Parallel()
	u := uniqueRoom(t) // a unique user, since the lobby is shared by every test run
	// raw: a dials the bare /api/chat, a path the Go client never uses.
	a := dial(t, dev, "/api/chat", "a")
	a.send(`{"type":"join","userId":"` + u + `-a"}`)
	a.welcome(u + "-a")
	goJoin(t, dev, "lobby", u+"-b")
	// a may hear other lobby traffic; look for b's join among it.
	for {
		f := a.next()
		if match(joinedT(u+"-b"), f.data) == nil {
			break
		}
	}
}

func TestConversation(t *testing.T) {
	// raw: sends spoofed userId and timestamp fields, and keeps a socket that never joins.
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	a, b, c := dial(t, dev, path, "alice"), dial(t, dev, path, "bob"), dial(t, dev, path, "lurker")
	a.send(`{"type":"join","userId":"alice"}`)
	a.welcome("alice")
	b.send(`{"type":"join","userId":"bob"}`)
	b.welcome("bob")
	a.expect(joinedT("bob"))
	// The frame's userId and timestamp cannot override the server's.
	a.send(`{"type":"message","text":"hi bob","userId":"mallory","timestamp":"1999-01-01T00:00:00.000Z"}`)
	a.expect(msgT("alice", "hi bob"))
	b.expect(msgT("alice", "hi bob"))
	b.send(`{"type":"message","text":"line1\nline2 \u00e9 \ud83d\ude00 <b>"}`)
	want := `{"type":"message","id":"#","userId":"bob","text":"line1\nline2 é 😀 <b>","timestamp":"*"}`
	a.expect(want)
	b.expect(want)
	c.quiet() // never joined: receives nothing
	a.leave(websocket.StatusNormalClosure, "bye")
	b.expect(leftT("alice"))
	b.quiet()
}

func TestTwoTabsOneUser(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	bob := goJoin(t, dev, room, "bob")
	tab1 := goJoin(t, dev, room, "alice")
	bob.expect(joinedT("alice"))
	tab2 := goJoin(t, dev, room, "alice")
	// Both tabs receive the conversation; the message is the next event of
	// tab1 and bob, so the second tab's join announced nothing to them.
	bob.send("hello alice")
	for _, c := range []*gclient{bob, tab1, tab2} {
		c.expect(msgT("bob", "hello alice"))
	}
	tab1.leave()
	quietGo(bob, tab2, bob) // alice is still here
	tab2.vanish()
	bob.expect(leftT("alice"))
	quietGo(bob, bob)
}

func TestAbruptDrops(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	stay := goJoin(t, dev, room, "stay")
	const n = 5
	var gone []*gclient
	for i := 0; i < n; i++ {
		c := goJoin(t, dev, room, "gone"+string(rune('0'+i)))
		stay.expect(joinedT("gone" + string(rune('0'+i))))
		gone = append(gone, c)
	}
	for _, c := range gone {
		c.vanish()
	}
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		raw := goclient.Raw(stay.next())
		for j := 0; j < n; j++ {
			u := "gone" + string(rune('0'+j))
			if match(leftT(u), string(raw)) == nil {
				seen[u]++
			}
		}
	}
	for j := 0; j < n; j++ {
		if u := "gone" + string(rune('0'+j)); seen[u] != 1 {
			t.Errorf("user_left for %s seen %d times, want 1", u, seen[u])
		}
	}
	// The room still works, and the message is stay's next event: nothing
	// more came.
	stay.send("anyone?")
	stay.expect(msgT("stay", "anyone?"))
}

func TestCloseIsReciprocated(t *testing.T) {
	// raw: closes with chosen codes and checks the server's close frame.
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	for _, code := range []websocket.StatusCode{websocket.StatusNormalClosure, websocket.StatusGoingAway, 4000} {
		c := dial(t, dev, path, "closer")
		c.send(`{"type":"join","userId":"closer"}`)
		c.welcome("closer")
		c.leave(code, "bye") // fails unless the server answers the close frame
	}
}

func TestErrorFrames(t *testing.T) {
	// raw: sends malformed and binary frames and checks their error frames.
	t.Parallel()
	tests := []struct {
		name   string
		joined bool
		frame  string
		code   string
	}{
		{"not JSON", false, `hello`, "invalid_json"},
		{"broken JSON", false, `{"type":`, "invalid_json"},
		{"array", false, `[{"type":"ping"}]`, "invalid_json"},
		{"number", false, `7`, "invalid_json"},
		{"null", false, `null`, "invalid_json"},
		{"no type", false, `{"text":"x"}`, "unknown_type"},
		{"unknown type", false, `{"type":"shout"}`, "unknown_type"},
		{"type not a string", false, `{"type":["join"]}`, "unknown_type"},
		{"join without userId", false, `{"type":"join"}`, "invalid_user_id"},
		{"empty userId", false, `{"type":"join","userId":""}`, "invalid_user_id"},
		{"userId too long", false, `{"type":"join","userId":"` + strings.Repeat("x", 65) + `"}`, "invalid_user_id"},
		{"userId with control character", false, `{"type":"join","userId":"a\tb"}`, "invalid_user_id"},
		{"userId a number", false, `{"type":"join","userId":5}`, "invalid_user_id"},
		{"join as another user", true, `{"type":"join","userId":"someone-else"}`, "already_joined"},
		{"message before join", false, `{"type":"message","text":"hi"}`, "not_joined"},
		{"message without text", true, `{"type":"message"}`, "invalid_message"},
		{"empty text", true, `{"type":"message","text":""}`, "invalid_message"},
		{"text a number", true, `{"type":"message","text":1}`, "invalid_message"},
		{"text too long", true, `{"type":"message","text":"` + strings.Repeat("x", 4097) + `"}`, "message_too_long"},
	}
	path := "/api/chat/" + uniqueRoom(t)
	peer := dial(t, dev, path, "peer")
	peer.send(`{"type":"join","userId":"peer"}`)
	peer.welcome("peer")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, dev, path, "c")
			if tt.joined {
				c.send(`{"type":"join","userId":"joined"}`)
				c.welcome("joined")
				peer.t = t
				peer.expect(joinedT("joined"))
			}
			c.send(tt.frame)
			c.expect(errT(tt.code))
			// The socket stays open and usable after an error.
			c.barrier()
			peer.t = t
			peer.quiet() // nothing leaked to the room
			c.leave(websocket.StatusNormalClosure, "")
			if tt.joined {
				peer.expect(leftT("joined"))
			}
		})
	}
	t.Run("binary frame", func(t *testing.T) {
		c := dial(t, dev, path, "c")
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := c.conn.Write(ctx, websocket.MessageBinary, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		c.expect(errT("unsupported_frame"))
		c.barrier()
	})
	t.Run("4096 characters pass", func(t *testing.T) {
		c := dial(t, dev, path, "c")
		text := strings.Repeat("é", 4096)
		c.send(`{"type":"message","userId":"max","text":"` + text + `"}`)
		c.welcome("max")
		c.expect(msgT("max", text))
		peer.t = t
		peer.expect(joinedT("max"), msgT("max", text))
	})
}

func TestOversizedFrame(t *testing.T) {
	// raw: sends frames of 1 MiB and one byte more and checks the 1009 close.
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	big, other := dial(t, dev, path, "big"), dial(t, dev, path, "other")
	big.send(`{"type":"join","userId":"big"}`)
	big.welcome("big")
	other.send(`{"type":"join","userId":"other"}`)
	other.welcome("other")
	big.expect(joinedT("other"))

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	// Exactly 1 MiB is allowed through to validation (and is too long a text).
	frame := `{"type":"message","text":"`
	frame += strings.Repeat("x", 1<<20-len(frame)-2) + `"}`
	big.send(frame)
	big.expect(errT("message_too_long"))
	// One byte more closes the socket with 1009.
	_ = big.conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat(" ", 1<<20+1)))
	if code := big.closed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	other.expect(leftT("big"))
	other.send(`{"type":"message","text":"still here"}`)
	other.expect(msgT("other", "still here"))
}

func TestRoomIsolation(t *testing.T) {
	t.Parallel()
	r1, r2 := uniqueRoom(t)+"-1", uniqueRoom(t)+"-2"
	a := goJoin(t, dev, r1, "same")
	b := goJoin(t, dev, r2, "same") // a user in two rooms is two presences
	a.send("only room 1")
	a.expect(msgT("same", "only room 1"))
	a.vanish()
	// b's own message is its next event: neither a's message nor a's leave
	// reached room 2.
	quietGo(b, b)
}

func TestAutoResponsePing(t *testing.T) {
	// raw: checks the exact ping's auto-response on the wire.
	t.Parallel()
	c := dial(t, dev, "/api/chat/"+uniqueRoom(t), "pinger")
	for i := 0; i < 3; i++ {
		c.send(`{"type":"ping"}`)
		c.expect(`{"type":"pong"}`)
	}
	c.send(`{"type":"ping" }`) // not byte-identical: answered by Go
	c.expect(`{"type":"pong"}`)
}
