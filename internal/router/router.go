// Package router decides what the Worker does with a request, from its
// method, path and Upgrade header alone: answer it directly (health, 404,
// 405, 426, a bad room name), serve the chat page, or forward it to a room.
// Both the front worker and the room's object route with it, so the object
// trusts no other caller. It is pure Go, tested natively.
package router

import (
	"strings"

	"github.com/chatroom/gochat/room/protocol"
)

// LobbyRoom is the shared room served at /api/chat.
const LobbyRoom = "lobby"

// roomName is the rule for a room in /api/chat/{room}: ^[A-Za-z0-9_-]{1,64}$.
// It is written out rather than a regexp, which would add about 0.1 MB of
// gzipped Wasm for one check.
var roomName roomNameRule

type roomNameRule struct{}

// MatchString reports whether s is a valid room name.
func (roomNameRule) MatchString(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Route is what the front worker does with a request.
type Route struct {
	// Status is 0 when the request goes to a room, otherwise the HTTP status
	// to answer with, alongside Body.
	Status int
	Body   []byte
	// Room is the room to forward the request to, and Kind what it asks of it.
	Room string
	Kind Kind
	// Allow is set on 405 answers.
	Allow string
}

// Kind is what a request forwarded to a room asks for.
type Kind int

const (
	// KindSocket is a WebSocket upgrade into the room.
	KindSocket Kind = iota + 1
	// KindInfo is GET /api/rooms/{room}.
	KindInfo
	// KindMessages is GET /api/rooms/{room}/messages.
	KindMessages
	// KindPage is the chat page for a room, GET /r/{room}, served from the
	// static assets.
	KindPage
)

// Decide routes a request by method, path and its Upgrade header:
// /api/chat[/{room}] upgrades go to the room, /api/health answers itself, and
// everything else gets a JSON error.
func Decide(method, path, upgrade string) Route {
	switch {
	case path == "/api/health":
		if method != "GET" && method != "HEAD" {
			return methodNotAllowed("GET, HEAD")
		}
		return Route{Status: 200, Body: healthOK}
	case path == "/api/chat" || strings.HasPrefix(path, "/api/chat/"):
		name := LobbyRoom
		if path != "/api/chat" {
			name = path[len("/api/chat/"):]
			if !roomName.MatchString(name) {
				return Error(400, "invalid_room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -")
			}
		}
		if method != "GET" {
			return methodNotAllowed("GET")
		}
		if !strings.EqualFold(strings.TrimSpace(upgrade), "websocket") {
			return Error(426, "upgrade_required", "this endpoint speaks WebSocket; send Upgrade: websocket")
		}
		return Route{Room: name, Kind: KindSocket}
	case strings.HasPrefix(path, "/api/rooms/"):
		rest := path[len("/api/rooms/"):]
		kind := KindInfo
		if name, ok := strings.CutSuffix(rest, "/messages"); ok {
			rest, kind = name, KindMessages
		}
		if !roomName.MatchString(rest) {
			if strings.Contains(rest, "/") && kind == KindInfo {
				return Error(404, "not_found", "rooms have /api/rooms/{room} and /api/rooms/{room}/messages")
			}
			return Error(400, "invalid_room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -")
		}
		if method != "GET" && method != "HEAD" {
			return methodNotAllowed("GET, HEAD")
		}
		return Route{Room: rest, Kind: kind}
	case strings.HasPrefix(path, "/r/"):
		name := strings.TrimSuffix(path[len("/r/"):], "/")
		if !roomName.MatchString(name) {
			return Error(400, "invalid_room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -")
		}
		if method != "GET" && method != "HEAD" {
			return methodNotAllowed("GET, HEAD")
		}
		return Route{Room: name, Kind: KindPage}
	default:
		return Error(404, "not_found", "no such endpoint; chat is at /api/chat and /api/chat/{room}")
	}
}

var healthOK = protocol.Marshal(protocol.Health{OK: true})

func methodNotAllowed(allow string) Route {
	r := Error(405, "method_not_allowed", "use "+allow)
	r.Allow = allow
	return r
}

// Error is an error answer in the JSON error shape.
func Error(status int, code, message string) Route {
	return Route{Status: status, Body: protocol.Marshal(protocol.HTTPError{Error: code, Message: message})}
}
