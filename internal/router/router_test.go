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

func TestRoomAPIRoutes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		method, path string
		status       int
		kind         router.Kind
		target       string
		allow        string
	}{
		{"GET", "/api/rooms/r", 0, router.KindInfo, "", ""},
		{"GET", "/api/rooms/r/messages", 0, router.KindMessages, "", ""},
		{"POST", "/api/rooms/r/messages", 0, router.KindPost, "", ""},
		{"DELETE", "/api/rooms/r/messages/41", 0, router.KindDeleteMessage, "41", ""},
		{"POST", "/api/rooms/r/kick", 0, router.KindKick, "", ""},
		{"POST", "/api/rooms/r/bans", 0, router.KindBan, "", ""},
		{"GET", "/api/rooms/r/bans", 0, router.KindBans, "", ""},
		{"DELETE", "/api/rooms/r/bans/bob", 0, router.KindUnban, "bob", ""},
		{"DELETE", "/api/rooms/r/bans/b%C3%B6b%2Fx", 0, router.KindUnban, "böb/x", ""},
		{"GET", "/api/rooms/r/audit", 0, router.KindAudit, "", ""},
		{"PUT", "/api/rooms/r/messages", 405, 0, "", "GET, HEAD, POST"},
		{"GET", "/api/rooms/r/kick", 405, 0, "", "POST"},
		{"POST", "/api/rooms/r/messages/41", 405, 0, "", "DELETE"},
		{"DELETE", "/api/rooms/r/audit", 405, 0, "", "GET, HEAD"},
		{"GET", "/api/rooms/r/nope", 404, 0, "", ""},
		{"DELETE", "/api/rooms/r/messages/", 404, 0, "", ""},
		{"POST", "/api/rooms/a.b/kick", 400, 0, "", ""},
		{"DELETE", "/api/rooms/r/bans/%zz", 400, 0, "", ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			got := router.Decide(tt.method, tt.path, "")
			if got.Status != tt.status || got.Kind != tt.kind || got.Target != tt.target || got.Allow != tt.allow {
				t.Errorf("Decide = %+v, want status %d kind %d target %q allow %q", got, tt.status, tt.kind, tt.target, tt.allow)
			}
			if tt.status == 0 && got.Room != "r" {
				t.Errorf("room %q", got.Room)
			}
			if got.Kind.ServerAPI() != (tt.kind >= router.KindPost) {
				t.Errorf("ServerAPI() = %v", got.Kind.ServerAPI())
			}
		})
	}
}
