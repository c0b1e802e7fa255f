package e2e

// Tests of the hardening rules against wrangler dev: admission, the frame
// budget, the join timeout, bounded history, token claims and expiry, the
// subprotocol token, the upgrade limiter and the response headers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goclient "github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/internal/devserver"
	"github.com/chatroom/gochat/room/protocol"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// closedWith waits for the server to close c and checks the code and reason.
func (c *client) closedWith(code websocket.StatusCode, reason string) {
	c.t.Helper()
	got := c.closed()
	var ce websocket.CloseError
	if got != code || (reason != "" && (!errors.As(c.err, &ce) || ce.Reason != reason)) {
		c.t.Fatalf("%s: closed with %v (%v), want %d %q", c.name, got, c.err, code, reason)
	}
}

// drain reads frames until the server closes c, returning them.
func (c *client) drain() []string {
	c.t.Helper()
	var out []string
	for {
		select {
		case f := <-c.frames:
			out = append(out, f.data)
		case <-c.done:
			for {
				select {
				case f := <-c.frames:
					out = append(out, f.data)
				default:
					return out
				}
			}
		case <-time.After(waitTimeout):
			c.t.Fatalf("%s: not closed within %v", c.name, waitTimeout)
		}
	}
}

func TestHardenFloodOfInvalidFrames(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	flood := signedIn(t, room, "flooder")
	calm := signedIn(t, room, "calm")
	other := signedIn(t, room, "other")
	flood.expect(joinedT("calm"), joinedT("other"))
	calm.expect(joinedT("other"))
	const sent = 3000
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		for i := 0; i < sent; i++ {
			frame := []string{`not json`, `{"type":"join","userId":"x"}`, `{"type":"ping","n":1}`, `{"type":"nope"}`}[i%4]
			if flood.conn.Write(ctx, websocket.MessageText, []byte(frame)) != nil {
				return
			}
		}
	}()
	// While it floods, the others still talk. The flooder's user_left may
	// come at any point in between.
	calm.send(`{"type":"message","text":"still here?"}`)
	calm.expectSkipping(leftT("flooder"), msgT("calm", "still here?"))
	other.expectSkipping(leftT("flooder"), msgT("calm", "still here?"))
	other.send(`{"type":"message","text":"yes"}`)
	other.expectSkipping(leftT("flooder"), msgT("other", "yes"))
	calm.expectSkipping(leftT("flooder"), msgT("other", "yes"))
	replies := flood.drain()
	// The flooder's user_left, if it did not come above.
	calm.barrierSkipping(leftT("flooder"))
	if code := websocket.CloseStatus(flood.err); code != websocket.StatusPolicyViolation {
		t.Fatalf("the flooder was closed with %v, want 1008", flood.err)
	}
	// The budget's burst (20) gets answers, then one rate_limited a second:
	// a flood is not echoed.
	limited := 0
	for _, r := range replies {
		if strings.Contains(r, `"rate_limited"`) {
			limited++
		}
	}
	if len(replies) > 30 || limited < 1 || limited > 3 {
		t.Errorf("%d frames got %d replies (%d rate_limited), want about 20 and 1 or 2 rate_limited", sent, len(replies), limited)
	}
}

// barrierSkipping is barrier, passing over frames that match skip.
func (c *client) barrierSkipping(skip string) {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"type":"ping","barrier":%d}`, barriers.Add(1)))
	c.expectSkipping(skip, `{"type":"pong"}`)
}

// expectSkipping is expect for templates in order, passing over frames that
// match skip (an event whose moment the test cannot pin down).
func (c *client) expectSkipping(skip string, templates ...string) {
	c.t.Helper()
	for _, tmpl := range templates {
		for {
			f := c.next()
			if match(skip, f.data) == nil {
				continue
			}
			if err := match(tmpl, f.data); err != nil {
				c.t.Fatalf("%s: %v", c.name, err)
			}
			break
		}
	}
}

// TestHardenNobodySilencesAlice is the review's probe, on the default config
// in open mode: frames naming alice from a socket that is not alice's are
// validated before anything is charged, and never to alice's bucket.
func TestHardenNobodySilencesAlice(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	alice := dial(t, dev, room, "alice")
	alice.send(`{"type":"join","userId":"alice"}`)
	alice.welcome("alice")
	mallory := dial(t, dev, room, "mallory")
	for i := 0; i < 25; i++ {
		mallory.send(`{"type":"message","userId":"alice"}`)
	}
	for i := 0; i < 25; i++ { // all 25 answered, none charged to alice
		mallory.expect(errT("invalid_message"))
	}
	// The default bucket holds 10: all ten of alice's go through.
	for i := 1; i <= 10; i++ {
		alice.send(`{"type":"message","text":"m` + strconv.Itoa(i) + `"}`)
	}
	for i := 1; i <= 10; i++ {
		alice.expect(msgT("alice", "m"+strconv.Itoa(i)))
	}
}

// TestHardenAddressBound: an upgrade whose CF-Connecting-IP is longer than
// any address gets 400 invalid_address, on the default config as make dev
// runs it (without the bound, a 17,000-byte one was accepted with a 101 and
// its join was never answered: the socket's attachment did not fit); the
// longest real address forms get in and chat.
func TestHardenAddressBound(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	for _, n := range []int{65, 17000} {
		refused(t, dev.WS+room, http.Header{"CF-Connecting-IP": {strings.Repeat("a", n)}}, 400, "invalid_address")
	}
	for i, ip := range []string{"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.254", "2001:db8::" + strconv.FormatUint(uint64(lastIP.Add(1)), 16)} {
		user := "u" + strconv.Itoa(i)
		c := dialHeader(t, dev, room, http.Header{"CF-Connecting-IP": {ip}}, user)
		c.send(`{"type":"join","userId":"` + user + `"}`)
		c.welcome(user)
	}
}

func TestHardenConnectionCaps(t *testing.T) {
	t.Parallel()
	t.Run("per user, with a token", func(t *testing.T) {
		t.Parallel()
		room := "/api/chat/" + uniqueRoom(t)
		tok := token(t, "alice", time.Hour, testSecret)
		dial(t, protected, room+"?token="+tok, "tab 1")
		dial(t, protected, room+"?token="+tok, "tab 2")
		refused(t, protected.WS+room+"?token="+tok, nil, 429, "too_many_connections")
		// Another user still gets in.
		dial(t, protected, room+"?token="+token(t, "bob", time.Hour, testSecret), "bob")
	})
	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		room := "/api/chat/" + uniqueRoom(t)
		ip := withIP(nil) // an address of its own, shared by the dials below
		a := dialHeader(t, protected, room+"?token="+token(t, "a", time.Hour, testSecret), ip, "a")
		dialHeader(t, protected, room+"?token="+token(t, "b", time.Hour, testSecret), ip, "b")
		refused(t, protected.WS+room+"?token="+token(t, "c", time.Hour, testSecret), ip, 429, "too_many_connections")
		// From elsewhere it gets in; and a closed socket frees its place.
		dial(t, protected, room+"?token="+token(t, "c", time.Hour, testSecret), "c elsewhere")
		a.leave(websocket.StatusNormalClosure, "")
		info := protected.HTTP + "/api/rooms/" + strings.TrimPrefix(room, "/api/chat/")
		auth := map[string]string{"Authorization": "Bearer " + token(t, "c", time.Hour, testSecret)}
		waitFor(t, "a's socket gone", func() bool {
			_, body, _ := get(t, info, auth)
			return strings.Contains(body, `"connections":2`)
		})
		dialHeader(t, protected, room+"?token="+token(t, "d", time.Hour, testSecret), ip, "d")
	})
	t.Run("per user, in open mode, at join", func(t *testing.T) {
		t.Parallel()
		room := "/api/chat/" + uniqueRoom(t)
		for i := 0; i < 10; i++ { // the default cap
			c := dial(t, dev, room, "tab")
			c.send(`{"type":"join","userId":"alice"}`)
			c.welcome("alice")
		}
		late := dial(t, dev, room, "eleventh tab")
		late.send(`{"type":"join","userId":"alice"}`)
		late.expect(errT("too_many_connections"))
		late.closedWith(websocket.StatusPolicyViolation, "too many connections")
	})
}

// waitFor polls cond until it holds or the wait times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v", what, waitTimeout)
		case <-tick.C:
		}
	}
}

// TestHardenJoinTimeoutAcrossHibernation: a socket that never joins is closed
// by the alarm, after the object has hibernated (no event for 10 s evicts it).
func TestHardenJoinTimeoutAcrossHibernation(t *testing.T) {
	t.Parallel()
	srv := ownServer(t, devserver.Options{Name: "join-timeout", Config: "e2e/wrangler.toml",
		Env: []string{"MINIFLARE_WORKERD_PATH=" + devserver.NextWorkerd(root)}, Args: []string{"--var", "JOIN_TIMEOUT_SECONDS:13"}})
	room := "/api/chat/" + uniqueRoom(t)
	member := dial(t, srv, room, "member")
	member.send(`{"type":"join","userId":"member"}`)
	member.welcome("member")
	lurker := dial(t, srv, room, "lurker")
	before := constructed(t, srv)
	start := time.Now()
	lurker.closedWith(websocket.StatusPolicyViolation, "join timeout")
	if after := constructed(t, srv); after <= before {
		t.Errorf("the object was constructed %d times before the close and %d after: it never hibernated", before, after)
	}
	if waited := time.Since(start); waited < 10*time.Second {
		t.Errorf("closed after %v, before the object could hibernate", waited)
	}
	member.barrier() // the member stays
}

func TestHardenHugeHistoryIsBounded(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	w := dial(t, evict, "/api/chat/"+room, "writer")
	w.send(`{"type":"join","userId":"writer"}`)
	w.welcome("writer")
	text := strings.Repeat("😀", 4096) // 16 KiB of four-byte characters
	const n = 500
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	go func() {
		for i := 0; i < n; i++ {
			if w.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"message","text":"`+text+`"}`)) != nil {
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		if m := w.nextMessage(); m.Text != text {
			t.Fatalf("message %d came back altered", i)
		}
	}
	check := func(name, frame string, wantLast int64) {
		t.Helper()
		var h struct {
			Messages  []protocol.StoredMessage
			Truncated bool
		}
		if err := json.Unmarshal([]byte(frame), &h); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(frame) > 262144 {
			t.Errorf("%s: %d bytes, over HISTORY_MAX_BYTES (262144)", name, len(frame))
		}
		if len(h.Messages) < 10 || !h.Truncated || h.Messages[len(h.Messages)-1].ID != wantLast {
			t.Errorf("%s: %d messages ending at %d, truncated %v; want the newest that fit, truncated", name, len(h.Messages), h.Messages[len(h.Messages)-1].ID, h.Truncated)
		}
	}
	for _, join := range []string{`{"type":"join","userId":"r1","since":0}`, `{"type":"join","userId":"r2"}`} {
		r := dial(t, evict, "/api/chat/"+room, "reader")
		r.send(join)
		r.expect(`{"type":"user_joined","userId":"*","timestamp":"*"}`)
		r.next() // presence
		check(join, r.next().data, n)
	}
	status, body, _ := get(t, evict.HTTP+"/api/rooms/"+room+"/messages?limit=500", nil)
	if status != 200 {
		t.Fatalf("limit=500: %d %s", status, body)
	}
	check("limit=500", body, n)
	// Each frame goes out as UTF-8, one byte for a <.
	w.send(`{"type":"message","text":"<b>&</b>"}`)
	for {
		f := w.next()
		if strings.HasPrefix(f.data, `{"type":"user_joined"`) {
			continue // the readers above
		}
		if !strings.Contains(f.data, `"text":"<b>&</b>"`) {
			t.Errorf("got %s, want the text as sent, unescaped", f.data)
		}
		break
	}
}

func TestHardenWalkBackWithBefore(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	w := dial(t, evict, "/api/chat/"+room, "writer")
	w.send(`{"type":"join","userId":"writer"}`)
	w.welcome("writer")
	for i := 1; i <= 57; i++ {
		w.send(`{"type":"message","text":"m` + strconv.Itoa(i) + `"}`)
		w.nextMessage()
	}
	var seen []int64
	url := evict.HTTP + "/api/rooms/" + room + "/messages?limit=20"
	for page := 0; page < 10; page++ {
		status, body, _ := get(t, url, nil)
		var p protocol.MessagesPage
		if status != 200 || json.Unmarshal([]byte(body), &p) != nil {
			t.Fatalf("%s: %d %s", url, status, body)
		}
		for i := len(p.Messages) - 1; i >= 0; i-- {
			seen = append(seen, p.Messages[i].ID)
		}
		if !p.Truncated {
			break
		}
		url = evict.HTTP + "/api/rooms/" + room + "/messages?limit=20&before=" + strconv.FormatInt(p.Messages[0].ID, 10)
	}
	if len(seen) != 57 {
		t.Fatalf("walked back through %d messages, want 57: %v", len(seen), seen)
	}
	for i, id := range seen {
		if id != int64(57-i) {
			t.Fatalf("a gap or a duplicate at %d: %v", i, seen)
		}
	}
	for _, bad := range []string{"0", "-3", "x", "2.5"} {
		status, body, _ := get(t, evict.HTTP+"/api/rooms/"+room+"/messages?before="+bad, nil)
		if status != 400 || !strings.Contains(body, `"error":"invalid_before"`) {
			t.Errorf("before=%s: %d %s, want 400 invalid_before", bad, status, body)
		}
	}
}

func TestHardenRoomsClaim(t *testing.T) {
	t.Parallel()
	exact, team := uniqueRoom(t), uniqueRoom(t)
	tok := signed(t, testSecret, jwt.MapClaims{"sub": "alice", "aud": testAudience, "iss": testIssuer,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "rooms": []string{exact, team + "-*"}})
	for _, room := range []string{exact, team + "-a", team + "-"} {
		c := dial(t, protected, "/api/chat/"+room+"?token="+tok, room)
		c.send(`{"type":"join"}`)
		c.welcome("alice")
		if status, body, _ := get(t, protected.HTTP+"/api/rooms/"+room, map[string]string{"Authorization": "Bearer " + tok}); status != 200 {
			t.Errorf("room info of %s: %d %s", room, status, body)
		}
	}
	for _, room := range []string{exact + "x", team, "lobby"} {
		path := "/api/chat/" + room
		if room == "lobby" {
			path = "/api/chat" // /api/chat is the room lobby
		}
		refused(t, protected.WS+path+"?token="+tok, nil, 403, "forbidden_room")
		status, body, _ := get(t, protected.HTTP+"/api/rooms/"+room+"/messages", map[string]string{"Authorization": "Bearer " + tok})
		if status != 403 || !strings.Contains(body, `"error":"forbidden_room"`) {
			t.Errorf("history of %s: %d %s, want 403 forbidden_room", room, status, body)
		}
	}
}

func TestHardenTokenPolicy(t *testing.T) {
	t.Parallel()
	room := protected.WS + "/api/chat/" + uniqueRoom(t)
	now := time.Now()
	claims := func(change func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"sub": "alice", "aud": testAudience, "iss": testIssuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		change(c)
		return signed(t, testSecret, c)
	}
	for _, tt := range []struct {
		name  string
		token string
	}{
		{"wrong audience", claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })},
		{"no audience", claims(func(c jwt.MapClaims) { delete(c, "aud") })},
		{"wrong issuer", claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })},
		{"lifetime over AUTH_MAX_TTL_SECONDS", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(2 * time.Hour).Unix() })},
		{"exp in the year 9999", claims(func(c jwt.MapClaims) { c["exp"] = int64(253402300799) })},
		{"iat in the future", claims(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refused(t, room+"?token="+tt.token, nil, 401, "unauthorized")
		})
	}
	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		t.Parallel()
		c := dialHeader(t, protected, strings.TrimPrefix(room, protected.WS), http.Header{"Authorization": {"BEARER " + token(t, "alice", time.Hour, testSecret)}}, "alice")
		c.send(`{"type":"join"}`)
		c.welcome("alice")
	})
	t.Run("iat within the 30 s leeway", func(t *testing.T) {
		t.Parallel()
		c := dial(t, protected, strings.TrimPrefix(room, protected.WS)+"?token="+claims(func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Second).Unix() }), "skewed")
		c.barrier()
	})
}

// TestHardenSubprotocolToken is how the browser sends its token: as a
// WebSocket subprotocol, never in the URL.
func TestHardenSubprotocolToken(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tok := token(t, "alice", time.Hour, testSecret)
	conn, res, err := websocket.Dial(ctx, protected.WS+room, &websocket.DialOptions{
		Subprotocols: []string{"gochat", "bearer." + tok}, HTTPHeader: withIP(nil)})
	if err != nil {
		t.Fatalf("dial with the token as a subprotocol: %v", err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != "gochat" || res.Header.Get("Sec-WebSocket-Protocol") != "gochat" {
		t.Errorf("selected %q, want gochat", conn.Subprotocol())
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join"}`)); err != nil {
		t.Fatal(err)
	}
	_, data, err := conn.Read(ctx)
	if err != nil || !strings.HasPrefix(string(data), `{"type":"user_joined","userId":"alice"`) {
		t.Errorf("first frame %s, %v; want alice's user_joined", data, err)
	}
	// A wrong token as a subprotocol is refused like any other.
	refusedProtocols(t, protected.WS+room, []string{"gochat", "bearer.nope"}, 401)
	// In open mode the subprotocol is selected too.
	c, _, err := websocket.Dial(ctx, dev.WS+room, &websocket.DialOptions{Subprotocols: []string{"gochat"}, HTTPHeader: withIP(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "gochat" {
		t.Errorf("open mode selected %q, want gochat", c.Subprotocol())
	}
}

func refusedProtocols(t *testing.T, url string, protocols []string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: protocols, HTTPHeader: withIP(nil)})
	if err == nil {
		conn.CloseNow()
		t.Fatalf("dial succeeded, want %d", status)
	}
	if res == nil || res.StatusCode != status {
		t.Fatalf("dial: %v, want %d", err, status)
	}
}

// TestHardenTokenExpiryCloses4001: a socket closes when its token expires,
// and the Go client reconnects with a fresh token from its TokenFunc and
// resumes: nothing lost, nothing doubled.
func TestHardenTokenExpiryCloses4001(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	// A token whose exp passed 27 s ago is still accepted (the leeway is
	// 30 s), and its socket lives until the leeway runs out: about 3 s.
	nearlyGone := func(user string) string {
		return signed(t, testSecret, jwt.MapClaims{"sub": user, "aud": testAudience, "iss": testIssuer,
			"iat": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(-27 * time.Second).Unix()})
	}
	raw := dial(t, protected, "/api/chat/"+room+"?token="+nearlyGone("raw"), "raw")
	raw.send(`{"type":"join"}`)
	raw.welcome("raw")
	raw.closedWith(4001, "token expired")

	ctx, cancel := context.WithTimeout(context.Background(), 3*waitTimeout)
	defer cancel()
	minted := 0
	c, err := goclient.Dial(ctx, goclient.Options{URL: protected.HTTP, Room: room, UserID: "alice",
		TokenFunc: func(context.Context) (string, error) {
			minted++
			if minted == 1 {
				return nearlyGone("alice"), nil
			}
			return token(t, "alice", time.Hour, testSecret), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, err := c.Send(ctx, "before expiry")
	if err != nil {
		t.Fatal(err)
	}
	// Another member talks while alice's token runs out.
	bob := signedIn(t, "/api/chat/"+room, "bob")
	var reconnected, got bool
	for !got {
		var ev goclient.Event
		select {
		case ev = <-c.Events():
		case <-ctx.Done():
			t.Fatal("no reconnect with a fresh token, or bob's message never came")
		}
		switch ev := ev.(type) {
		case *goclient.Status:
			if ev.State == goclient.Reconnecting && !reconnected {
				reconnected = true
				bob.send(`{"type":"message","text":"while you were away"}`)
			}
		case *goclient.Message:
			got = ev.Text == "while you were away"
		case *goclient.History:
			for _, m := range ev.Messages {
				got = got || m.Text == "while you were away"
			}
		}
	}
	if !reconnected || minted < 2 {
		t.Errorf("reconnected %v with %d tokens minted, want a reconnect with a fresh token", reconnected, minted)
	}
	second, err := c.Send(ctx, "after expiry")
	if err != nil || second.ID <= first.ID {
		t.Errorf("send after the refresh: %+v, %v", second, err)
	}
}

func TestHardenUpgradeLimiter(t *testing.T) {
	t.Parallel()
	// Five upgrades a minute from one address (e2e/wrangler.toml), across
	// rooms. wrangler dev simulates the binding with fixed windows (its
	// buckets clear when the minute changes), so the five and the sixth must
	// fall in one window: an attempt that straddles a minute boundary proves
	// nothing and is made again, once, from a fresh address.
	for attempt := 1; ; attempt++ {
		ip := withIP(nil) // an address of its own, shared by the dials below
		window := time.Now().Unix() / 60
		for i := 0; i < 5; i++ {
			c := dialHeader(t, protected, "/api/chat/"+uniqueRoom(t)+strconv.Itoa(i)+"?token="+token(t, "u", time.Hour, testSecret), ip, "upgrade")
			c.conn.CloseNow()
		}
		url := protected.WS + "/api/chat/" + uniqueRoom(t) + "?token=" + token(t, "u", time.Hour, testSecret)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: ip})
		cancel()
		if err == nil {
			conn.CloseNow()
			if attempt == 1 && time.Now().Unix()/60 != window {
				t.Log("the upgrades straddled a minute boundary; trying again")
				continue
			}
			t.Fatal("the sixth upgrade in a minute from one address was accepted, want 429")
		}
		refusal(t, url, res, err, 429, "too_many_requests")
		break
	}
	// Another address is not affected, and reads are not limited.
	dial(t, protected, "/api/chat/"+uniqueRoom(t)+"?token="+token(t, "u", time.Hour, testSecret), "elsewhere")
}

func TestHardenHeaders(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/api/health", "/api/rooms/lobby", "/api/nope"} {
		res := head(t, dev.HTTP+path)
		if res.Get("X-Content-Type-Options") != "nosniff" || res.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: nosniff %q, cache-control %q", path, res.Get("X-Content-Type-Options"), res.Get("Cache-Control"))
		}
	}
	for _, path := range []string{"/", "/chat-client.js", "/r/" + uniqueRoom(t)} {
		res := head(t, dev.HTTP+path)
		csp := res.Get("Content-Security-Policy")
		for _, want := range []string{"connect-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q allows inline code", path, csp)
		}
		if res.Get("X-Content-Type-Options") != "nosniff" || res.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: nosniff %q, referrer %q", path, res.Get("X-Content-Type-Options"), res.Get("Referrer-Policy"))
		}
	}
	if status, _, _ := get(t, dev.HTTP+"/favicon.ico", nil); status != 200 {
		t.Errorf("/favicon.ico: %d", status)
	}
	// The page holds no inline script for the CSP to block.
	page, err := os.ReadFile(filepath.Join(root, "worker", "public", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "<script>") || strings.Contains(string(page), " style=") || strings.Contains(string(page), "onclick") {
		t.Error("index.html has inline script or style")
	}
}

// head GETs url and returns its headers.
func head(t *testing.T, url string) http.Header {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.Header
}
