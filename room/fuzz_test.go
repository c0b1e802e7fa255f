package room_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chatroom/gochat/room"
)

// FuzzFrame feeds arbitrary frames to a room through its decoder and
// validation. Whatever arrives, the room must not panic, must keep the socket
// open, and must only ever send well-formed frames of known types.
func FuzzFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","userId":"user123"}`,
		`{"type":"message","text":"Hello, world!","userId":"user123"}`,
		`{"type":"message","text":"hi"}`,
		`{"type":"ping"}`,
		`{"type":"ping","x":[1,{"y":null}]}`,
		`{"type":"join","userId":"a\u0000"}`,
		`{"type":"message","text":"\ud800"}`,
		`{"type":1}`,
		`[]`, `null`, `"x"`, `{`, `{"type":"join","userId":"a","userId":5}`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, frame []byte, joinFirst bool) {
		e := newEnv(t, room.DefaultConfig(), false)
		a, b := e.connect(), e.connect()
		e.send(b, `{"type":"join","userId":"bob"}`)
		if joinFirst {
			e.send(a, `{"type":"join","userId":"alice"}`)
		}
		a.take()
		b.take()
		e.room.Message(e.host, a, frame, false)
		if a.state != wsOpen {
			t.Fatalf("a %d-byte frame closed the socket", len(frame))
		}
		for _, s := range []*fakeSocket{a, b} {
			for _, out := range s.take() {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("sent invalid JSON %q: %v", out, err)
				}
				switch v["type"] {
				case "user_joined", "message", "pong", "error", "user_left", "presence", "history":
				default:
					t.Fatalf("sent unknown frame %q", out)
				}
			}
		}
	})
}

// FuzzDecode checks the decoder alone: it never panics, and what it accepts
// has a known type.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"join","userId":"x"}`))
	f.Add([]byte(`{"type":"message","text":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, rej := room.Decode(data)
		if rej != nil {
			if rej.Code == "" || rej.Message == "" {
				t.Fatalf("reject without code or message: %+v", rej)
			}
			return
		}
		switch req.Type {
		case room.TypeJoin, room.TypeMessage, room.TypePing:
		default:
			t.Fatalf("accepted unknown type %q", req.Type)
		}
	})
}

func jsonError(body []byte) bool {
	var v struct {
		Error   *string `json:"error"`
		Message *string `json:"message"`
	}
	return json.Unmarshal(body, &v) == nil && v.Error != nil && *v.Error != "" && v.Message != nil && *v.Message != ""
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	for _, tt := range []time.Time{
		time.Date(2025, 10, 26, 5, 20, 0, 0, time.UTC),
		time.Date(2025, 10, 26, 5, 20, 0, 999_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 5_000_000, time.FixedZone("x", 3600)),
		time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := room.Timestamp(tt), tt.UTC().Format(room.TimeLayout); got != want {
			t.Errorf("Timestamp(%v) = %s, want %s", tt, got, want)
		}
	}
}
