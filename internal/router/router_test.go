package router_test

import (
	"encoding/json"
	"testing"

	"github.com/chatroom/gochat/internal/router"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, upgrade string
		status                      int
		room                        string
		body                        string
	}{
		{"lobby", "GET", "/api/chat", "websocket", 0, "lobby", ""},
		{"upgrade header is case-insensitive", "GET", "/api/chat", "WebSocket", 0, "lobby", ""},
		{"named room", "GET", "/api/chat/team-1_B", "websocket", 0, "team-1_B", ""},
		{"64-character room", "GET", "/api/chat/" + string(make64('r')), "websocket", 0, string(make64('r')), ""},
		{"65-character room", "GET", "/api/chat/" + string(make64('r')) + "r", "websocket", 400, "", ""},
		{"room with a dot", "GET", "/api/chat/a.b", "websocket", 400, "", ""},
		{"room with a slash", "GET", "/api/chat/a/b", "websocket", 400, "", ""},
		{"empty room", "GET", "/api/chat/", "websocket", 400, "", ""},
		{"percent-encoded room", "GET", "/api/chat/a%20b", "websocket", 400, "", ""},
		{"no upgrade", "GET", "/api/chat", "", 426, "", `{"error":"upgrade_required","message":"this endpoint speaks WebSocket; send Upgrade: websocket"}`},
		{"other upgrade", "GET", "/api/chat/x", "h2c", 426, "", ""},
		{"bad room wins over missing upgrade", "GET", "/api/chat/a.b", "", 400, "", ""},
		{"post to chat", "POST", "/api/chat", "websocket", 405, "", ""},
		{"health", "GET", "/api/health", "", 200, "", `{"ok":true}`},
		{"post health", "POST", "/api/health", "", 405, "", ""},
		{"root is left to the static assets", "GET", "/", "", 404, "", ""},
		{"room page", "GET", "/r/team-1", "", 0, "team-1", ""},
		{"room page with a bad name", "GET", "/r/a.b", "", 400, "", ""},
		{"room info", "GET", "/api/rooms/general", "", 0, "general", ""},
		{"room messages", "GET", "/api/rooms/general/messages", "", 0, "general", ""},
		{"room info, bad name", "GET", "/api/rooms/a.b", "", 400, "", ""},
		{"room messages, bad name", "GET", "/api/rooms/a.b/messages", "", 400, "", ""},
		{"room, unknown subpath", "GET", "/api/rooms/general/other", "", 404, "", ""},
		{"room info, post", "POST", "/api/rooms/general", "", 405, "", ""},
		{"prefix lookalike", "GET", "/api/chatroom", "websocket", 404, "", ""},
		{"unknown api", "GET", "/api/nope", "", 404, "", `{"error":"not_found","message":"no such endpoint; chat is at /api/chat and /api/chat/{room}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := router.Decide(tt.method, tt.path, tt.upgrade)
			if got.Status != tt.status || got.Room != tt.room {
				t.Fatalf("Decide = status %d room %q, want %d %q", got.Status, got.Room, tt.status, tt.room)
			}
			if tt.body != "" && string(got.Body) != tt.body {
				t.Errorf("body = %s, want %s", got.Body, tt.body)
			}
			if got.Status >= 400 && !jsonError(got.Body) {
				t.Errorf("error body %s is not {\"error\",\"message\"}", got.Body)
			}
		})
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

func jsonError(body []byte) bool {
	var v struct {
		Error   *string `json:"error"`
		Message *string `json:"message"`
	}
	return json.Unmarshal(body, &v) == nil && v.Error != nil && *v.Error != "" && v.Message != nil && *v.Message != ""
}
