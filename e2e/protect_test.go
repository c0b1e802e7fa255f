package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// token mints a token for user as the protected server's issuer does: with
// its aud and iss, issued now, living ttl.
func token(t *testing.T, user string, ttl time.Duration, secret string) string {
	t.Helper()
	return signed(t, secret, jwt.MapClaims{"sub": user, "aud": testAudience, "iss": testIssuer,
		"iat": time.Now().Unix(), "exp": time.Now().Add(ttl).Unix()})
}

// signed signs claims with secret (HS256).
func signed(t *testing.T, secret string, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// refused dials and expects the upgrade to be refused with status and a JSON
// error body with code.
func refused(t *testing.T, url string, header http.Header, status int, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: withIP(header)})
	if err == nil {
		conn.CloseNow()
		t.Fatalf("dial %s succeeded, want %d", url, status)
	}
	refusal(t, url, res, err, status, code)
}

// refusal checks a failed dial's response: status and a JSON error body with
// code.
func refusal(t *testing.T, url string, res *http.Response, err error, status int, code string) {
	t.Helper()
	if res == nil || res.StatusCode != status {
		t.Fatalf("dial %s: %v (response %v), want status %d", url, err, res, status)
	}
	body, _ := io.ReadAll(res.Body)
	if err := match(`{"error":"`+code+`","message":"*"}`, string(body)); err != nil {
		t.Errorf("body %s: %v", body, err)
	}
}

// signedIn connects to room on the protected server with a token for user,
// and joins as that user.
func signedIn(t *testing.T, room, user string) *client {
	t.Helper()
	c := dial(t, protected, room+"?token="+token(t, user, time.Hour, testSecret), user)
	c.send(`{"type":"join"}`)
	c.welcome(user)
	return c
}

func TestAuthRefusals(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	base := protected.WS + room
	claims := jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "alice"}).SignedString([]byte(testSecret))
	tests := []struct {
		name  string
		token string
	}{
		{"no token", ""},
		{"bad signature", token(t, "alice", time.Hour, "another-secret")},
		{"expired", token(t, "alice", -time.Minute, testSecret)},
		{"alg none", none},
		{"no exp", noExp},
		{"garbage", "abc.def.ghi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := base
			if tt.token != "" {
				url += "?token=" + tt.token
			}
			refused(t, url, nil, 401, "unauthorized")
			hdr := http.Header{}
			if tt.token != "" {
				hdr.Set("Authorization", "Bearer "+tt.token)
			}
			refused(t, base, hdr, 401, "unauthorized")
			for _, api := range []string{"/api/rooms/r1", "/api/rooms/r1/messages"} {
				status, body, _ := get(t, protected.HTTP+api+strings.TrimPrefix(url, base), nil)
				if status != 401 || match(`{"error":"unauthorized","message":"*"}`, body) != nil {
					t.Errorf("%s: %d %s", api, status, body)
				}
			}
		})
	}
	t.Run("a valid token opens both the socket and the API", func(t *testing.T) {
		t.Parallel()
		tok := token(t, "alice", time.Hour, testSecret)
		c := dial(t, protected, room+"?token="+tok, "alice")
		c.send(`{"type":"join","userId":"alice"}`)
		c.welcome("alice")
		if status, body, _ := get(t, protected.HTTP+"/api/rooms/r1", map[string]string{"Authorization": "Bearer " + tok}); status != 200 {
			t.Errorf("API with a bearer token: %d %s", status, body)
		}
	})
}

func TestIdentityIsTheToken(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	bob := dial(t, protected, room+"?token="+token(t, "bob", time.Hour, testSecret), "bob")
	bob.send(`{"type":"join","userId":"alice"}`) // a token for another user
	bob.expect(errT("forbidden"))
	bob.send(`{"type":"message","text":"as alice","userId":"alice"}`)
	bob.expect(errT("forbidden"))
	bob.send(`{"type":"join"}`)
	bob.welcome("bob")
	bob.send(`{"type":"message","text":"hi","userId":"alice"}`)
	bob.expect(errT("forbidden"))
	bob.send(`{"type":"message","text":"hi"}`)
	bob.expect(msgT("bob", "hi"))

	// A spoofed identity header is deleted by the front worker: the socket
	// is still bob's.
	spoof := http.Header{"X-Chat-User": {"alice"}}
	s := dialHeader(t, protected, room+"?token="+token(t, "bob", time.Hour, testSecret), spoof, "spoofer")
	s.send(`{"type":"join","userId":"alice"}`)
	s.expect(errT("forbidden"))
	s.send(`{"type":"join"}`)
	s.welcome("bob")
}

func TestSpoofedHeaderInOpenMode(t *testing.T) {
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	c := dialHeader(t, dev, path, http.Header{"X-Chat-User": {"mallory"}}, "spoofer")
	c.send(`{"type":"join"}`) // not bound to mallory: a join needs a userId
	c.expect(errT("invalid_user_id"))
	c.send(`{"type":"join","userId":"alice"}`)
	c.welcome("alice")
}

func TestOrigins(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	url := protected.WS + room + "?token=" + token(t, "alice", time.Hour, testSecret)
	refused(t, url, http.Header{"Origin": {"https://evil.example"}}, 403, "forbidden_origin")
	refused(t, url, http.Header{"Origin": {"https://chat.example.com.evil.example"}}, 403, "forbidden_origin")
	for i, origin := range []string{"https://chat.example.com", "HTTPS://CHAT.EXAMPLE.COM", ""} {
		hdr := http.Header{}
		if origin != "" {
			hdr.Set("Origin", origin)
		}
		// A user of its own each: one user may hold MAX_CONNECTIONS_PER_USER (2).
		path := room + "?token=" + token(t, "user"+strconv.Itoa(i), time.Hour, testSecret)
		c := dialHeader(t, protected, path, hdr, "origin "+origin)
		c.send(`{"type":"ping","x":1}`)
		c.expect(`{"type":"pong"}`)
	}
	// Open mode with no list: any origin.
	c := dialHeader(t, dev, "/api/chat/"+uniqueRoom(t), http.Header{"Origin": {"https://anywhere.example"}}, "open")
	c.barrier()
}

type errFrame struct {
	Type         string
	Code         string
	Message      string
	RetryAfterMs *int64
}

func TestFloodIsLimitedAndOthersFlow(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	flood := signedIn(t, room, "flooder")
	calm := signedIn(t, room, "calm")
	flood.expect(joinedT("calm"))

	const n = 30 // over the burst of 10, under the 50 rejects that close
	for i := 0; i < n; i++ {
		flood.send(`{"type":"message","text":"flood ` + strconv.Itoa(i) + `"}`)
	}
	// The calm user's messages flow while the flooder is limited.
	for i := 0; i < 3; i++ {
		calm.send(`{"type":"message","text":"calm ` + strconv.Itoa(i) + `"}`)
	}
	var passed, limited, calmSeen int
	for passed+limited < n || calmSeen < 3 {
		f := flood.next()
		var m map[string]any
		json.Unmarshal([]byte(f.data), &m)
		switch {
		case m["type"] == "message" && m["userId"] == "flooder":
			passed++
		case m["type"] == "message" && m["userId"] == "calm":
			calmSeen++
		case m["type"] == "error":
			var e errFrame
			json.Unmarshal([]byte(f.data), &e)
			if e.Code != "rate_limited" || e.RetryAfterMs == nil || *e.RetryAfterMs <= 0 || e.Message == "" {
				t.Fatalf("got %s, want rate_limited with retryAfterMs", f.data)
			}
			limited++
		default:
			t.Fatalf("unexpected %s", f.data)
		}
	}
	if limited == 0 || passed < 10 {
		t.Fatalf("%d passed and %d were limited; want the burst of 10 through and the rest limited", passed, limited)
	}
	// Limited messages were neither broadcast nor stored.
	var page struct{ Messages []wireMsg }
	status, body, _ := get(t, protected.HTTP+"/api/rooms/"+strings.TrimPrefix(room, "/api/chat/")+"/messages?limit=500", map[string]string{"Authorization": "Bearer " + token(t, "calm", time.Hour, testSecret)})
	if status != 200 || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("history: %d %s", status, body)
	}
	stored := 0
	for _, m := range page.Messages {
		if m.UserID == "flooder" {
			stored++
		}
	}
	if stored != passed {
		t.Errorf("stored %d of the flooder's messages, but %d were broadcast", stored, passed)
	}
	calmMsgs := 0
	for calmMsgs < 3+passed {
		if calm.nextMessage().ID > 0 {
			calmMsgs++
		}
	}
	calm.quiet()
}

func TestSustainedAbuseIsClosed(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	abuser := signedIn(t, room, "abuser")
	watcher := signedIn(t, room, "watcher")
	abuser.expect(joinedT("watcher"))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for i := 0; i < 100; i++ {
		if err := abuser.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"message","text":"spam"}`)); err != nil {
			break // closed under us
		}
	}
	for {
		select {
		case <-abuser.frames:
			continue
		case <-abuser.done:
		case <-ctx.Done():
			t.Fatal("the abuser was never closed")
		}
		break
	}
	if code := websocket.CloseStatus(abuser.err); code != websocket.StatusPolicyViolation {
		t.Fatalf("close code %d (%v), want 1008", code, abuser.err)
	}
	for {
		f := watcher.next()
		if match(leftT("abuser"), f.data) == nil {
			break
		}
		if match(msgT("abuser", "spam"), f.data) != nil {
			t.Fatalf("watcher got %s", f.data)
		}
	}
}

func TestBlockedWordsAndControlCharacters(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	a := signedIn(t, room, "alice")
	b := signedIn(t, room, "bob")
	a.expect(joinedT("bob"))
	for _, text := range []string{"oh DARN it", "Heck!", "darn"} {
		a.send(`{"type":"message","text":"` + text + `"}`)
		a.expect(errT("content_blocked"))
	}
	a.send(`{"type":"message","text":"bad\rcontrol"}`)
	a.expect(errT("invalid_message"))
	a.send(`{"type":"message","text":"darning is fine\n\tand so is this"}`)
	want := msgT("alice", `darning is fine\n\tand so is this`)
	a.expect(want)
	b.expect(want) // the first thing bob hears: nothing blocked leaked
	c := dial(t, protected, room+"?token="+token(t, "carol", time.Hour, testSecret), "carol")
	c.send(`{"type":"join"}`)
	if _, hist := c.welcome("carol"); len(hist) != 1 {
		t.Errorf("history holds %d messages, want only the allowed one", len(hist))
	}
}

// TestIdleClose checks the idle timeout (3 s on the protected server), with
// and without the room hibernating in between: alice says nothing and is
// closed with 1000 "idle timeout"; bob only sends exact pings, which the
// runtime answers without waking the room, and stays.
func TestIdleClose(t *testing.T) {
	for _, hibernate := range []bool{false, true} {
		t.Run("hibernate="+strconv.FormatBool(hibernate), func(t *testing.T) {
			room := "/api/chat/" + uniqueRoom(t)
			a := signedIn(t, room, "alice")
			b := signedIn(t, room, "bob")
			a.expect(joinedT("bob"))
			if hibernate {
				evictOn(t, protected)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
		wait:
			for {
				select {
				case <-a.done:
					break wait
				case f := <-a.frames:
					t.Fatalf("alice got %s while idle", f.data)
				case <-tick.C:
					b.send(`{"type":"ping"}`) // answered by the runtime
				case <-ctx.Done():
					t.Fatal("alice was not closed for idling")
				}
			}
			var ce websocket.CloseError
			if !errors.As(a.err, &ce) || ce.Code != websocket.StatusNormalClosure || ce.Reason != "idle timeout" {
				t.Fatalf("alice closed with %v, want 1000 idle timeout", a.err)
			}
			for {
				f := b.next()
				if f.data == `{"type":"pong"}` {
					continue
				}
				if err := match(leftT("alice"), f.data); err != nil {
					t.Fatalf("bob got %s, want alice's user_left", f.data)
				}
				break
			}
			b.send(`{"type":"message","text":"still here"}`)
			for {
				f := b.next()
				if f.data != `{"type":"pong"}` {
					if err := match(msgT("bob", "still here"), f.data); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
		})
	}
}

func TestRoomFull(t *testing.T) {
	t.Parallel()
	room := "/api/chat/" + uniqueRoom(t)
	var cs []*client
	for i := 0; i < 3; i++ {
		cs = append(cs, dial(t, protected, room+"?token="+token(t, "u"+strconv.Itoa(i), time.Hour, testSecret), "u"))
	}
	refused(t, protected.WS+room+"?token="+token(t, "late", time.Hour, testSecret), nil, 503, "room_full")
	cs[0].leave(websocket.StatusNormalClosure, "")
	// The close is processed before the next upgrade is: a seat is free.
	cs[1].barrier()
	c := dial(t, protected, room+"?token="+token(t, "late", time.Hour, testSecret), "late")
	c.barrier()
}
