package room_test

import (
	"encoding/json"
	"testing"

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
		`{"type":"edit","id":1,"text":"x"}`, `{"type":"delete","id":1}`, `{"type":"delete","id":-1}`,
		`{"type":"typing"}`, `{"type":"read","id":0}`, `{"type":"read","id":1}`,
		`{"type":"react","id":1,"emoji":"👍"}`, `{"type":"react","id":1}`,
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
		e.room.Message(e.host, a, room.Inbound{Text: frame})
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
				case "user_joined", "message", "pong", "error", "user_left", "presence", "history", "message_edited", "message_deleted",
					"read_state", "typing", "read", "reaction":
				default:
					t.Fatalf("sent unknown frame %q", out)
				}
			}
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
