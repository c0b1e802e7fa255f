package room_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

func TestPruningAndWindows(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.KeepMessages, cfg.JoinHistory, cfg.MaxResume = 5, 2, 3
	both(t, cfg, func(e *env) {
		a := e.connect()
		e.send(a, `{"type":"join","userId":"alice"}`)
		for i := 1; i <= 8; i++ {
			e.send(a, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
		}
		a.take()
		if n := len(e.host.store.rows); n != 5 {
			t.Errorf("stored %d rows, want the latest 5", n)
		}
		if first := e.host.store.rows[0].ID; first != 4 {
			t.Errorf("oldest stored id %d, want 4", first)
		}
		// A plain join gets the latest JoinHistory messages, without a
		// truncated flag: it asked for the recent conversation, not a resume.
		b := e.connect()
		e.send(b, `{"type":"join","userId":"bob"}`)
		got := b.take()
		// Unread counts the 5 stored messages (4 to 8), not the 2 sent.
		if len(got) != 4 || got[2] != `{"type":"history","messages":[`+stored(7, "alice", "m7")+","+stored(8, "alice", "m8")+`],"truncated":true}` ||
			got[3] != readState(0, 5) {
			t.Errorf("join history = %q", got)
		}
		// A resume that missed more than MaxResume gets the newest ones and
		// truncated:true; the oldest are left out.
		c := e.connect()
		e.send(c, `{"type":"join","userId":"carol","since":1}`)
		got = c.take()
		want := `{"type":"history","messages":[` + stored(6, "alice", "m6") + "," + stored(7, "alice", "m7") + "," + stored(8, "alice", "m8") + `],"truncated":true}`
		if len(got) != 4 || got[2] != want || got[3] != readState(0, 5) {
			t.Errorf("resume history = %q\nwant %s\n  %s", got, want, readState(0, 5))
		}
		// A resume inside the window is exact and not truncated.
		d := e.connect()
		e.send(d, `{"type":"join","userId":"dave","since":6}`)
		got = d.take()
		if len(got) != 4 || got[2] != history(stored(7, "alice", "m7"), stored(8, "alice", "m8")) || got[3] != readState(0, 5) {
			t.Errorf("resume history = %q", got)
		}
	})
}

func TestServeHTTP(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()

	t.Run("a room that never existed is empty and stays untouched", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, cfg, false)
		status, body := e.room.Info(e.host, "r")
		if status != 200 || string(body) != `{"room":"r","users":[],"connections":0,"lastMessageId":0}` {
			t.Errorf("info = %d %s", status, body)
		}
		status, body = e.room.Messages(e.host, "r", url.Values{})
		if status != 200 || string(body) != `{"room":"r","messages":[]}` {
			t.Errorf("messages = %d %s", status, body)
		}
		if len(e.host.store.rows) != 0 {
			t.Error("reading stored something")
		}
	})

	e := newEnv(t, cfg, false)
	a, b, _ := e.connect(), e.connect(), e.connect()
	e.send(a, `{"type":"join","userId":"zed"}`)
	e.send(b, `{"type":"join","userId":"amy"}`)
	for i := 1; i <= 4; i++ {
		e.send(a, `{"type":"message","text":"m`+strconv.Itoa(i)+`"}`)
	}
	e.send(b, `{"type":"read","id":3}`)
	status, body := e.room.Info(e.host, "r")
	var info protocol.RoomInfo
	if err := json.Unmarshal(body, &info); status != 200 || err != nil || !reflect.DeepEqual(info, protocol.RoomInfo{
		Room: "r", Users: []string{"amy", "zed"}, Connections: 3, LastMessageID: 4, Reads: map[string]int64{"amy": 3, "zed": 0}}) {
		t.Errorf("info = %d %s", status, body)
	}
	tests := []struct {
		name   string
		query  string
		status int
		body   string // the exact body, or the error code
	}{
		{"default", "", 200, `{"room":"r","messages":[` + stored(1, "zed", "m1") + "," + stored(2, "zed", "m2") + "," + stored(3, "zed", "m3") + "," + stored(4, "zed", "m4") + `]}`},
		{"since", "since=2", 200, `{"room":"r","messages":[` + stored(3, "zed", "m3") + "," + stored(4, "zed", "m4") + `]}`},
		{"since with limit keeps the newest", "since=0&limit=1", 200, `{"room":"r","messages":[` + stored(4, "zed", "m4") + `],"truncated":true}`},
		{"up to date", "since=4", 200, `{"room":"r","messages":[]}`},
		{"since ahead", "since=5", 400, "invalid_since"},
		{"since negative", "since=-1", 400, "invalid_since"},
		{"since not a number", "since=abc", 400, "invalid_since"},
		{"since empty", "since=", 400, "invalid_since"},
		{"since fractional", "since=1.5", 400, "invalid_since"},
		{"limit zero", "limit=0", 400, "invalid_limit"},
		{"limit too big", "limit=501", 400, "invalid_limit"},
		{"limit max", "limit=500", 200, ""},
		{"limit not a number", "limit=ten", 400, "invalid_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			status, body := e.room.Messages(e.host, "r", q)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			switch {
			case tt.status != 200:
				if !jsonError(body) || !strings.Contains(string(body), `"error":"`+tt.body+`"`) {
					t.Errorf("body %s, want error %s", body, tt.body)
				}
			case tt.body != "" && string(body) != tt.body:
				t.Errorf("body %s\nwant %s", body, tt.body)
			}
		})
	}

	t.Run("storage down is 503", func(t *testing.T) {
		e := newEnv(t, cfg, false)
		e.host.store.fail = true
		if status, body := e.room.Info(e.host, "r"); status != 503 || !jsonError(body) {
			t.Errorf("info = %d %s", status, body)
		}
	})
}
