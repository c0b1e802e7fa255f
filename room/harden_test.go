package room_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// connectWith accepts a socket with what the front worker vouched for.
func (e *env) connectWith(c room.Conn) *fakeSocket {
	e.t.Helper()
	e.before()
	e.n++
	s := &fakeSocket{name: "s" + strconv.Itoa(e.n), state: wsOpen}
	e.host.sockets = append(e.host.sockets, s)
	if err := e.room.Accept(e.host, s, c); err != nil {
		e.t.Fatalf("accept: %v", err)
	}
	return s
}

// admit asks the room about an upgrade and returns the status and error code.
func (e *env) admit(c room.Conn) (int, string) {
	e.t.Helper()
	e.before()
	status, body := e.room.Admit(e.host, c)
	if status == 0 {
		return 0, ""
	}
	var v protocol.HTTPError
	if err := json.Unmarshal(body, &v); err != nil || v.Message == "" {
		e.t.Fatalf("refusal body %s", body)
	}
	return status, v.Error
}

func (e *env) advance(d time.Duration) { e.host.now = e.host.now.Add(d) }

// closedWith checks that s was closed by the room with code and reason.
func closedWith(t *testing.T, s *fakeSocket, code int, reason string) {
	t.Helper()
	if s.closeCode != code || s.closeMsg != reason {
		t.Errorf("socket %s closed with %d %q, want %d %q", s.name, s.closeCode, s.closeMsg, code, reason)
	}
}

func TestAdmission(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.MaxConnectionsPerUser, cfg.MaxConnectionsPerIP, cfg.MaxConnections = 2, 3, 5
	both(t, cfg, func(e *env) {
		alice := room.Conn{User: "alice", IP: "203.0.113.1"}
		a1 := e.connectWith(alice)
		e.connectWith(alice)
		if status, code := e.admit(alice); status != 429 || code != "too_many_connections" {
			t.Errorf("alice's third upgrade: %d %s, want 429 too_many_connections", status, code)
		}
		if status, _ := e.admit(room.Conn{User: "alice", IP: "198.51.100.7"}); status != 429 {
			t.Errorf("alice from another address: %d, want 429: the cap is per identity", status)
		}
		if status, _ := e.admit(room.Conn{User: "bob", IP: "203.0.113.1"}); status != 0 {
			t.Errorf("bob from alice's address: %d, want admitted (2 of 3)", status)
		}
		e.connectWith(room.Conn{User: "bob", IP: "203.0.113.1"})
		if status, code := e.admit(room.Conn{User: "carol", IP: "203.0.113.1"}); status != 429 || code != "too_many_connections" {
			t.Errorf("a fourth socket from one address: %d %s, want 429", status, code)
		}
		// A closed socket frees its places, for its user and its address.
		e.peerClose(a1, 1000, "")
		if status, _ := e.admit(alice); status != 0 {
			t.Errorf("alice after closing one: %d, want admitted", status)
		}
		e.connectWith(alice)
		e.connectWith(room.Conn{User: "dave"})
		e.connectWith(room.Conn{User: "erin"})
		if status, code := e.admit(room.Conn{User: "frank"}); status != 503 || code != "room_full" {
			t.Errorf("a sixth socket in a room of 5: %d %s, want 503 room_full", status, code)
		}
	})
}

// TestAdmissionAddressBound: an upgrade whose CF-Connecting-IP is longer
// than any address is refused with 400 invalid_address, whatever the
// limits; the longest real forms pass.
func TestAdmissionAddressBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ip string
		status   int
	}{
		{"IPv6 with an IPv4 tail", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 0},
		{"IPv6 with a zone", "fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff%eth0", 0},
		{"at the bound", strings.Repeat("a", room.MaxAddressBytes), 0},
		{"one past the bound", strings.Repeat("a", room.MaxAddressBytes+1), 400},
		{"17,000 bytes", strings.Repeat("a", 17000), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := room.DefaultConfig()
			cfg.MaxConnectionsPerIP = 0
			e := newEnv(t, cfg, false)
			status, code := e.admit(room.Conn{User: "alice", IP: tc.ip})
			if status != tc.status || (status != 0 && code != "invalid_address") {
				t.Errorf("Admit(%d-byte address) = %d %s, want %d", len(tc.ip), status, code, tc.status)
			}
		})
	}
}

func TestAdmissionLimitsOff(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.MaxConnectionsPerUser, cfg.MaxConnectionsPerIP = 0, 0
	e := newEnv(t, cfg, false)
	for range 12 {
		e.connectWith(room.Conn{User: "alice", IP: "203.0.113.1"})
	}
	if status, _ := e.admit(room.Conn{User: "alice", IP: "203.0.113.1"}); status != 0 {
		t.Errorf("with both limits 0: %d, want admitted", status)
	}
}

func TestOpenModeUserCapAtJoin(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.MaxConnectionsPerUser = 2
	both(t, cfg, func(e *env) {
		a, b, c := e.connect(), e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		e.send(b, `{"type":"join","userId":"alice"}`)
		a.take()
		b.take()
		e.send(c, `{"type":"join","userId":"alice"}`)
		got := c.take()
		if len(got) != 1 || !strings.HasPrefix(got[0], `{"type":"error","code":"too_many_connections"`) {
			t.Errorf("the third join as alice got %q, want too_many_connections", got)
		}
		closedWith(t, c, 1008, "too many connections")
		// An implicit join counts the same.
		d := e.connect()
		e.send(d, `{"type":"message","userId":"alice","text":"me too"}`)
		closedWith(t, d, 1008, "too many connections")
		e.expect(a) // nothing was said, nobody new joined
		e.send(c, `{"type":"join","userId":"bob"}`)
		e.expect(a)
	})
}

func TestFrameBudget(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.FrameBurst, cfg.FramePerSecond, cfg.CloseAfterRejects = 3, 1, 6
	// Warm only: the budget lives in memory, like the message buckets. An
	// eviction needs 10 s of silence, which refills any budget anyway, so
	// "rebuilt before every event" would be a flood no runtime delivers.
	func(e *env) {
		flood, calm := e.connect(), e.connect()
		e.send(calm, `{"type":"join","userId":"calm"}`)
		calm.take()
		for range 3 {
			e.send(flood, `not json`)
			e.expectError(flood, "invalid_json")
		}
		// Over the budget: one rate_limited, then silence for a second.
		e.send(flood, `not json`)
		got := flood.take()
		if len(got) != 1 || !strings.HasPrefix(got[0], `{"type":"error","code":"rate_limited"`) || !strings.Contains(got[0], `"retryAfterMs":1000`) {
			t.Errorf("the fourth frame got %q, want rate_limited with retryAfterMs 1000", got)
		}
		e.send(flood, `{"type":"join","userId":"x"}`)
		e.send(flood, `{"type":"ping","extra":1}`)
		e.expect(flood)
		// A refused message is always answered: its sender is waiting.
		e.send(flood, `{"type":"message","userId":"x","text":"hi"}`)
		if got := flood.take(); len(got) != 1 || !strings.Contains(got[0], `"rate_limited"`) {
			t.Errorf("a refused message got %q, want rate_limited", got)
		}
		// The sixth refusal in a row closes the socket.
		e.send(flood, `{"type":"ping","extra":1}`)
		e.send(flood, `{"type":"ping","extra":1}`)
		closedWith(t, flood, 1008, "rate limit exceeded repeatedly")
		// The others were never disturbed.
		e.send(calm, `{"type":"message","text":"still here"}`)
		e.expect(calm, msg(1, "calm", "still here"))
	}(newEnv(t, cfg, false))
}

func TestFrameBudgetRefills(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.FrameBurst, cfg.FramePerSecond = 2, 2
	e := newEnv(t, cfg, false)
	a := e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.send(a, `{"type":"ping","x":1}`)
	a.take()
	e.send(a, `{"type":"ping","x":1}`)
	if got := a.take(); len(got) != 1 || !strings.Contains(got[0], `"rate_limited"`) || !strings.Contains(got[0], `"retryAfterMs":500`) {
		t.Fatalf("got %q, want rate_limited after 500 ms", got)
	}
	e.advance(500 * time.Millisecond)
	e.send(a, `{"type":"ping","x":1}`)
	e.expect(a, `{"type":"pong"}`)
}

// TestNobodyCanSilenceAUser is the review's probe: an unjoined socket naming
// alice in invalid frames used to drain alice's bucket. Frames are validated
// before they are charged, and only to the socket's own identity.
func TestNobodyCanSilenceAUser(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond = 3, 1
	both(t, cfg, func(e *env) {
		alice, mallory := e.connect(), e.connect()
		e.send(alice, `{"type":"join","userId":"alice"}`)
		alice.take()
		for range 10 {
			e.send(mallory, `{"type":"message","userId":"alice"}`)
			e.send(mallory, `{"type":"message","userId":"alice","text":""}`)
			e.send(mallory, `{"type":"message","userId":"alice","text":"`+strings.Repeat("x", cfg.MaxTextChars+1)+`"}`)
		}
		mallory.take()
		// Invalid messages of alice's own are not charged either.
		e.send(alice, `{"type":"message","text":"a\u0007bell"}`)
		alice.take()
		for i := 1; i <= 3; i++ {
			e.send(alice, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
			e.expect(alice, msg(i, "alice", "m"+strconv.Itoa(i)))
		}
	})
}

func TestABucketGoesWithItsUser(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond = 2, 0.001
	e := newEnv(t, cfg, false)
	a := e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.send(a, `{"type":"message","text":"1"}`)
	e.send(a, `{"type":"message","text":"2"}`)
	e.send(a, `{"type":"message","text":"3"}`)
	if got := a.take(); !strings.Contains(got[len(got)-1], `"rate_limited"`) {
		t.Fatalf("the third message got %q, want rate_limited", got[len(got)-1])
	}
	// Another tab shares the bucket while alice is still here.
	b := e.connect()
	e.send(b, `{"type":"join","userId":"alice"}`)
	b.take()
	e.send(b, `{"type":"message","text":"4"}`)
	if got := b.take(); len(got) != 1 || !strings.Contains(got[0], `"rate_limited"`) {
		t.Errorf("another tab of alice got %q, want rate_limited", got)
	}
	// Her last connection gone, the bucket goes too.
	e.peerClose(a, 1000, "")
	e.peerClose(b, 1000, "")
	c := e.connect()
	e.send(c, `{"type":"join","userId":"alice"}`)
	c.take()
	e.send(c, `{"type":"message","text":"back"}`)
	e.expect(c, msg(3, "alice", "back"))
}

func TestJoinTimeout(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.JoinTimeout, cfg.IdleTimeout = 60*time.Second, 600*time.Second
	both(t, cfg, func(e *env) {
		lurker, member := e.connect(), e.connect()
		e.send(member, `{"type":"join","userId":"bob"}`)
		member.take()
		deadline := time.Unix(testNow.Unix()+1, 0).Add(60 * time.Second) // accepted at the second rounded up
		if !e.host.alarm.Equal(deadline) {
			t.Errorf("alarm at %v, want the join deadline %v", e.host.alarm, deadline)
		}
		e.advance(59 * time.Second)
		e.alarm()
		if lurker.closes != 0 {
			t.Fatal("closed before the join timeout")
		}
		e.host.now = deadline
		e.alarm()
		closedWith(t, lurker, 1008, "join timeout")
		if member.closes != 0 {
			t.Error("a joined socket was closed by the join timeout")
		}
		e.expect(member) // an unjoined socket leaves without a user_left
		if want := time.Unix(testNow.Unix()+1, 0).Add(600 * time.Second); !e.host.alarm.Equal(want) {
			t.Errorf("next alarm %v, want bob's idle expiry %v", e.host.alarm, want)
		}
	})
}

func TestJoinTimeoutOff(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.JoinTimeout, cfg.IdleTimeout = 0, 0
	e := newEnv(t, cfg, false)
	lurker := e.connect()
	if !e.host.alarm.IsZero() {
		t.Errorf("an alarm at %v with no deadline to keep", e.host.alarm)
	}
	e.advance(time.Hour)
	e.alarm()
	if lurker.closes != 0 {
		t.Error("closed with the join timeout off")
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	both(t, cfg, func(e *env) {
		exp := testNow.Add(90 * time.Second).Truncate(time.Second)
		a := e.connectWith(room.Conn{User: "alice", Expires: exp})
		b := e.connectWith(room.Conn{User: "bob", Expires: exp.Add(time.Hour)})
		e.send(a, `{"type":"join"}`)
		e.send(b, `{"type":"join"}`)
		a.take()
		b.take()
		if e.host.alarm.IsZero() || e.host.alarm.After(exp) {
			t.Errorf("alarm at %v, want no later than alice's token expiry %v", e.host.alarm, exp)
		}
		e.host.now = exp.Add(-time.Second)
		e.alarm()
		if a.closes != 0 {
			t.Fatal("closed before the token expired")
		}
		if !e.host.alarm.Equal(exp) {
			t.Errorf("alarm at %v, want alice's token expiry %v", e.host.alarm, exp)
		}
		e.host.now = exp
		e.alarm()
		closedWith(t, a, 4001, "token expired")
		if got := b.take(); len(got) != 1 || !strings.HasPrefix(got[0], `{"type":"user_left","userId":"alice"`) {
			t.Errorf("bob got %q, want alice's user_left", got)
		}
		if b.closes != 0 {
			t.Error("bob's valid token was closed too")
		}
	})
}

func TestAFrameAfterTheTokenExpiredCloses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	exp := testNow.Add(10 * time.Second)
	a := e.connectWith(room.Conn{User: "alice", Expires: exp})
	e.send(a, `{"type":"join"}`)
	a.take()
	e.host.now = exp.Add(time.Millisecond) // before the alarm runs
	e.send(a, `{"type":"message","text":"late"}`)
	closedWith(t, a, 4001, "token expired")
	if len(e.host.store.rows) != 0 {
		t.Error("a message after the token expired was stored")
	}
}

// bigText is n four-byte characters: 4n bytes of UTF-8 on the wire.
func bigText(n int) string { return strings.Repeat("😀", n) }

func TestHistoryIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond, cfg.FrameBurst, cfg.FramePerSecond = 1000, 1000, 1000, 1000
	e := newEnv(t, cfg, false)
	w := e.connect()
	e.send(w, `{"type":"join","userId":"writer"}`)
	text := bigText(4096)
	for range 100 {
		e.send(w, `{"type":"message","text":"`+text+`"}`)
	}
	w.take()
	for _, tt := range []struct{ name, join string }{
		{"a plain join", `{"type":"join","userId":"r1"}`},
		{"a resume from the start", `{"type":"join","userId":"r2","since":0}`},
	} {
		r := e.connect()
		e.send(r, tt.join)
		got := r.take()
		var h struct {
			Messages  []protocol.StoredMessage
			Truncated bool
		}
		if len(got) != 4 || json.Unmarshal([]byte(got[2]), &h) != nil {
			t.Fatalf("%s: got %d frames", tt.name, len(got))
		}
		// All 100 are stored, though history holds only those that fit.
		if got[3] != readState(0, 100) {
			t.Errorf("%s: read state %s, want %s", tt.name, got[3], readState(0, 100))
		}
		if len(got[2]) > cfg.HistoryMaxBytes {
			t.Errorf("%s: a %d-byte history frame, over %d", tt.name, len(got[2]), cfg.HistoryMaxBytes)
		}
		if !h.Truncated || len(h.Messages) == 0 || h.Messages[len(h.Messages)-1].ID != 100 {
			t.Errorf("%s: %d messages, truncated %v; want the newest that fit, ending at 100, truncated", tt.name, len(h.Messages), h.Truncated)
		}
		// Every one that fits is there: one more would not have.
		if len(got[2])+len(text)*4/3 < cfg.HistoryMaxBytes-200 {
			t.Errorf("%s: %d bytes of %d used: it left out messages that fit", tt.name, len(got[2]), cfg.HistoryMaxBytes)
		}
		for i := 1; i < len(h.Messages); i++ {
			if h.Messages[i].ID != h.Messages[i-1].ID+1 {
				t.Errorf("%s: ids %d then %d", tt.name, h.Messages[i-1].ID, h.Messages[i].ID)
			}
		}
	}
	status, body := e.room.Messages(e.host, "r", url.Values{"limit": {"500"}})
	if status != 200 || len(body) > cfg.HistoryMaxBytes || !strings.Contains(string(body), `"truncated":true`) {
		t.Errorf("a limit=500 page: %d, %d bytes", status, len(body))
	}
}

func TestWalkingBackWithBefore(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond, cfg.FrameBurst = 1000, 1000, 1000
	e := newEnv(t, cfg, false)
	w := e.connect()
	e.send(w, `{"type":"join","userId":"writer"}`)
	for i := 1; i <= 23; i++ {
		e.send(w, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
	}
	var seen []int64
	before := ""
	for pages := 0; pages < 10; pages++ {
		q := url.Values{"limit": {"5"}}
		if before != "" {
			q.Set("before", before)
		}
		status, body := e.room.Messages(e.host, "r", q)
		var page protocol.MessagesPage
		if status != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("page before %q: %d %s", before, status, body)
		}
		for i := len(page.Messages) - 1; i >= 0; i-- {
			seen = append(seen, page.Messages[i].ID)
		}
		if !page.Truncated {
			break
		}
		before = strconv.FormatInt(page.Messages[0].ID, 10)
	}
	if len(seen) != 23 || seen[0] != 23 || seen[22] != 1 {
		t.Fatalf("walked back through %v, want 23 down to 1", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] != seen[i-1]-1 {
			t.Fatalf("a gap or a duplicate: %v", seen)
		}
	}
	for _, bad := range []string{"0", "-1", "x", "1.5", "", "01"} {
		status, body := e.room.Messages(e.host, "r", url.Values{"before": {bad}})
		if status != 400 || !strings.Contains(string(body), `"error":"invalid_before"`) {
			t.Errorf("before=%q: %d %s, want 400 invalid_before", bad, status, body)
		}
	}
	status, body := e.room.Messages(e.host, "r", url.Values{"before": {"10"}, "since": {"6"}})
	if var_ := string(body); status != 200 || !strings.Contains(var_, `"id":7,`) || !strings.Contains(var_, `"id":9,`) || strings.Contains(var_, `"id":10,`) || strings.Contains(var_, `"id":6,`) {
		t.Errorf("since=6&before=10: %s, want 7 to 9", body)
	}
}

func TestAnUnreadableAttachmentCloses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a, b := e.connect(), e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	a.take()
	b.attachment = []byte(`{"s":`) // corrupted
	e.room = room.New(e.cfg)
	e.send(b, `{"type":"message","userId":"mallory","text":"hi"}`)
	closedWith(t, b, 1011, "connection state lost; reconnect")
	e.expect(a) // no fresh session, no implicit join, no message
	if len(e.host.store.rows) != 0 {
		t.Error("a socket without its state posted a message")
	}
}

func TestContentBlockedNamesNoWord(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.BlockedWords = []string{"sekrit"}
	e := newEnv(t, cfg, false)
	a := e.connect()
	e.send(a, `{"type":"join","userId":"alice"}`)
	a.take()
	e.send(a, `{"type":"message","text":"the SEKRIT word"}`)
	got := a.take()
	if len(got) != 1 || !strings.Contains(got[0], `"content_blocked"`) || strings.Contains(strings.ToLower(got[0]), "sekrit") {
		t.Errorf("got %q: want content_blocked without the word", got)
	}
}

// panickySocket's runtime throws when asked for its auto-response time.
type panickySocket struct{ *fakeSocket }

func (panickySocket) AutoResponseAt() time.Time { panic("the runtime threw") }

// TestAnAlarmThatFailsLeavesNoRoomWithoutAlarm: the worker recovers a panic
// at its boundary; the next socket must still arm an alarm, or no deadline
// would ever be enforced until the next eviction.
func TestAnAlarmThatFailsLeavesNoRoomWithoutAlarm(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.IdleTimeout, cfg.JoinTimeout = 10*time.Second, 0
	e := newEnv(t, cfg, false)
	p := panickySocket{&fakeSocket{name: "p", state: wsOpen}}
	e.host.sockets = append(e.host.sockets, p.fakeSocket)
	if err := e.room.Accept(e.host, p, room.Conn{}); err != nil {
		t.Fatal(err)
	}
	e.host.now = e.host.alarm
	func() {
		defer func() { _ = recover() }()
		e.room.Alarm(e.host)
	}()
	e.host.alarm = time.Time{} // the alarm fired, and nothing set another
	e.connect()
	if e.host.alarm.IsZero() {
		t.Error("after a failed alarm, a new socket armed no alarm")
	}
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":                 "203.0.113.7",
		"":                            "",
		"2001:db8:0:1::5":             "2001:db8:0:1::/64",
		"2001:DB8:0:1:ffff:0:0:1":     "2001:db8:0:1::/64",
		"2001:0db8:0000:0001:a:b:c:d": "2001:db8:0:1::/64",
		"2001:db8::1":                 "2001:db8:0:0::/64",
		"::1":                         "0:0:0:0::/64",
		"fe80::1%eth0":                "fe80:0:0:0::/64",
		"::ffff:203.0.113.7":          "::ffff:203.0.113.7",
		"2001:db8:0:1:2:3:4:5:6":      "2001:db8:0:1:2:3:4:5:6",
		"2001:db8:zz::1":              "2001:db8:zz::1",
		"not an address":              "not an address",
		"2001:db8:0:1:0:0:0:1::":      "2001:db8:0:1:0:0:0:1::",
		"12345::1":                    "12345::1",
	} {
		if got := room.AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
	// Two addresses of one /64 share the per-address limit.
	cfg := room.DefaultConfig()
	cfg.MaxConnectionsPerIP = 1
	e := newEnv(t, cfg, false)
	e.connectWith(room.Conn{IP: room.AddressKey("2001:db8:0:1::a")})
	if status, _ := e.admit(room.Conn{IP: room.AddressKey("2001:db8:0:1::b")}); status != 429 {
		t.Errorf("a second address of the same /64: %d, want 429", status)
	}
}
