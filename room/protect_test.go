package room_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/room/protocol"

	"github.com/chatroom/gochat/room"
)

func rateLimited(ms int) string {
	return `{"type":"error","code":"rate_limited","message":"too many messages; slow down","retryAfterMs":` + strconv.Itoa(ms) + `}`
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig() // burst 10, 5/s
	t.Run("a burst passes, the next message waits for a token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		a, b := e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		e.send(b, `{"type":"join","userId":"bob"}`)
		a.take()
		b.take()
		for i := 1; i <= 10; i++ {
			e.send(a, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
		}
		if got := len(b.take()); got != 10 {
			t.Fatalf("bob got %d of a 10-message burst", got)
		}
		a.take()
		e.send(a, `{"type":"message","text":"one too many"}`)
		e.expect(a, rateLimited(200)) // 1 token at 5/s
		e.expect(b)                   // not broadcast
		if n := len(e.host.store.rows); n != 10 {
			t.Errorf("stored %d messages, want 10: a limited one is not stored", n)
		}
		// Other users keep full service during the flood.
		e.send(b, `{"type":"message","text":"I can talk"}`)
		e.expect(b, msg(11, "bob", "I can talk"))
		e.expect(a, msg(11, "bob", "I can talk"))
		e.host.now = e.host.now.Add(100 * time.Millisecond)
		e.send(a, `{"type":"message","text":"still early"}`)
		e.expect(a, rateLimited(100))
		e.host.now = e.host.now.Add(100 * time.Millisecond)
		e.send(a, `{"type":"message","text":"on time"}`)
		e.expect(a, strings.Replace(msg(12, "alice", "on time"), ts, "2025-10-26T05:20:00.323Z", 1))
	})
	t.Run("the bucket is shared by all of a user's connections", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		tab1, tab2 := e.connect(), e.connect()
		e.send(tab1, `{"type":"join","userId":"alice"}`)
		e.send(tab2, `{"type":"join","userId":"alice"}`)
		for i := 0; i < 5; i++ {
			e.send(tab1, `{"type":"message","text":"x"}`)
			e.send(tab2, `{"type":"message","text":"y"}`)
		}
		tab1.take()
		tab2.take()
		e.send(tab2, `{"type":"message","text":"z"}`)
		e.expect(tab2, rateLimited(200))
	})
	t.Run("a socket that keeps flooding is closed with 1008", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		a, b := e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		e.send(b, `{"type":"join","userId":"bob"}`)
		for i := 0; i < 10; i++ {
			e.send(a, `{"type":"message","text":"x"}`)
		}
		a.take()
		b.take()
		for i := 1; i < cfg.CloseAfterRejects; i++ {
			e.send(a, `{"type":"message","text":"flood"}`)
			if a.state != wsOpen {
				t.Fatalf("closed after %d rejects, want %d", i, cfg.CloseAfterRejects)
			}
		}
		e.send(a, `{"type":"message","text":"flood"}`)
		if a.closeCode != protocol.ClosePolicyViolation {
			t.Fatalf("close code %d, want 1008", a.closeCode)
		}
		e.expect(b, left("alice"))
	})
	t.Run("an accepted message resets the flood count", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		a := e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		for round := 0; round < 3; round++ {
			for i := 0; i < cfg.CloseAfterRejects-1+10; i++ {
				e.send(a, `{"type":"message","text":"x"}`)
			}
			e.host.now = e.host.now.Add(10 * time.Second)
		}
		if a.state != wsOpen {
			t.Fatal("closed although no run of rejects reached the limit")
		}
	})
	t.Run("after an eviction the bucket is full again, as 10 s of silence would make it", func(t *testing.T) {
		t.Parallel()
		for _, evict := range []bool{false, true} {
			e := newEnv(t, cfg, false)
			a := e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			for i := 0; i < 11; i++ {
				e.send(a, `{"type":"message","text":"x"}`)
			}
			// Eviction needs 10 s without any event.
			e.host.now = e.host.now.Add(10 * time.Second)
			e.evict = evict
			a.take()
			for i := 0; i < 10; i++ {
				e.send(a, `{"type":"message","text":"y"}`)
			}
			for _, f := range a.take() {
				if strings.Contains(f, "rate_limited") {
					t.Fatalf("evict=%v: limited after 10 s of silence: %s", evict, f)
				}
			}
			e.send(a, `{"type":"message","text":"z"}`)
			if f := a.take(); evict == false && (len(f) != 1 || !strings.Contains(f[0], "rate_limited")) {
				t.Fatalf("11th message passed: %q", f)
			}
		}
	})
}

func TestModeration(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.BlockedWords = room.ParseWords(" Darn, heck ,foo bar,,ÄRGER")
	tests := []struct {
		text string
		code string
	}{
		{"darn", protocol.CodeContentBlocked},
		{"Darn!", protocol.CodeContentBlocked},
		{"oh DARN it", protocol.CodeContentBlocked},
		{"(heck)", protocol.CodeContentBlocked},
		{"foo  bar", ""}, // phrases match as written
		{"x Foo Bar.", protocol.CodeContentBlocked},
		{"ärger", protocol.CodeContentBlocked},
		{"darning needles", ""},
		{"undarn", ""},
		{"heckle", ""},
		{"darn_it", ""},
		{"d a r n", ""},
		{"tab\tand\nnewline are fine", ""},
		{"carriage\rreturn", protocol.CodeInvalidMessage},
		{"nul\u0000", protocol.CodeInvalidMessage},
		{"bell\u0007", protocol.CodeInvalidMessage},
		{"c1\u0085", protocol.CodeInvalidMessage},
		{"del\u007f", protocol.CodeInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, cfg, false)
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			a.take()
			b.take()
			text := strings.NewReplacer("\t", `\t`, "\n", `\n`, "\r", `\r`, "\u0000", `\u0000`, "\u0007", `\u0007`, "\u0085", `\u0085`, "\u007f", `\u007f`).Replace(tt.text)
			e.send(a, `{"type":"message","text":"`+text+`"}`)
			if tt.code == "" {
				e.expect(b, msg(1, "alice", text))
				return
			}
			e.expectError(a, tt.code)
			e.expect(b)
			if len(e.host.store.rows) != 0 {
				t.Error("a rejected message was stored")
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.IdleTimeout = 3 * time.Second
	both(t, cfg, func(e *env) {
		t := e.t
		a := e.connect() // at 05:20:00.123: active until second :01, idle at :04
		if want := testNow.Truncate(time.Second).Add(4 * time.Second); !e.host.alarm.Equal(want) {
			t.Fatalf("alarm %v, want %v", e.host.alarm, want)
		}
		e.send(a, `{"type":"join","userId":"alice"}`)
		b := e.connect()
		e.send(b, `{"type":"join","userId":"bob"}`)
		a.take()
		b.take()
		// bob talks at :02.5; alice stays silent.
		e.host.now = testNow.Add(2400 * time.Millisecond)
		e.send(b, `{"type":"message","text":"hi"}`)
		a.take()
		b.take()
		e.host.now = e.host.alarm
		e.alarm()
		if a.closeCode != protocol.CloseNormal || a.closeMsg != "idle timeout" {
			t.Fatalf("alice: close %d %q, want 1000 idle timeout", a.closeCode, a.closeMsg)
		}
		e.expect(b, strings.Replace(left("alice"), ts, "2025-10-26T05:20:04.000Z", 1))
		if b.state != wsOpen {
			t.Fatal("bob was closed although he spoke")
		}
		if want := testNow.Truncate(time.Second).Add(6 * time.Second); !e.host.alarm.Equal(want) {
			t.Fatalf("next alarm %v, want bob's expiry %v", e.host.alarm, want)
		}
		// Exact pings answered by the runtime keep bob alive.
		b.autoPong = testNow.Add(5 * time.Second)
		e.host.now = e.host.alarm
		e.alarm()
		if b.state != wsOpen {
			t.Fatal("bob was closed although the runtime answered his ping")
		}
		if want := testNow.Truncate(time.Second).Add(9 * time.Second); !e.host.alarm.Equal(want) {
			t.Fatalf("alarm %v, want %v", e.host.alarm, want)
		}
		e.host.now = e.host.alarm
		e.alarm()
		if b.closeMsg != "idle timeout" {
			t.Fatal("bob outlived his idle timeout")
		}
		if !e.host.alarm.IsZero() {
			t.Errorf("alarm still set at %v with no socket open", e.host.alarm)
		}
	})
	t.Run("the last socket to close takes the alarm with it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		a := e.connect()
		e.peerClose(a, 1000, "")
		if !e.host.alarm.IsZero() {
			t.Error("alarm left set")
		}
	})
	t.Run("a connection is never closed early", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		a := e.connect()
		e.host.now = testNow.Add(2900 * time.Millisecond)
		e.send(a, `{"type":"ping","x":1}`) // activity at :02.9 → idle at :06
		e.host.now = testNow.Add(5800 * time.Millisecond)
		e.alarm()
		if a.state != wsOpen {
			t.Fatal("closed before 3 s of silence")
		}
	})
}

func TestSignedInSockets(t *testing.T) {
	t.Parallel()
	both(t, room.DefaultConfig(), func(e *env) {
		a, b := e.connectAs("alice"), e.connectAs("bob")
		e.send(a, `{"type":"join","userId":"mallory"}`)
		e.expectError(a, protocol.CodeForbidden)
		e.send(a, `{"type":"join"}`) // the token says who
		e.expect(a, welcome("alice", us("alice"))...)
		e.send(a, `{"type":"message","text":"hi","userId":"bob"}`)
		e.expectError(a, protocol.CodeForbidden)
		e.send(a, `{"type":"message","text":"hi","userId":"alice"}`)
		e.expect(a, msg(1, "alice", "hi"))
		e.send(b, `{"type":"message","text":"implicit"}`) // joins as bob
		e.expect(b, seq(welcome("bob", us("alice", "bob"), stored(1, "alice", "hi")), msg(2, "bob", "implicit"))...)
		e.expect(a, joined("bob"), msg(2, "bob", "implicit"))
		e.send(b, `{"type":"join","userId":"alice"}`)
		e.expectError(b, protocol.CodeForbidden)
	})
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.MaxConnections = 2
	e := newEnv(t, cfg, false)
	full := func() bool {
		status, body := e.room.Admit(e.host, room.Conn{})
		if status != 0 && (status != 503 || !strings.Contains(string(body), `"error":"room_full"`)) {
			t.Fatalf("Admit = %d %s, want 503 room_full or 0", status, body)
		}
		return status == 503
	}
	a := e.connect()
	if full() {
		t.Fatal("full with 1 of 2")
	}
	e.connect()
	if !full() {
		t.Fatal("not full with 2 of 2")
	}
	e.peerClose(a, 1000, "")
	if full() {
		t.Fatal("still full after a close")
	}
}
