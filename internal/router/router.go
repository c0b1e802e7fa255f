// Package router decides what the Worker does with a request, from its
// method, path and Upgrade header alone: answer it directly (health, 404,
// 405, 426, a bad room name), serve the chat page, or forward it to a room.
// Both the front worker and the room's object route with it, so the object
// trusts no other caller. It is pure Go, tested natively.
package router

import (
	"net/url"
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
	// Target is the path's last part for the kinds that name one: the
	// message id of KindDeleteMessage, the userId of KindUnban (decoded).
	Target string
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
	// The server API, for moderator and service tokens: POST
	// /api/rooms/{room}/messages, DELETE .../messages/{id}, POST .../kick,
	// POST and GET .../bans, DELETE .../bans/{userId}, GET .../audit.
	KindPost
	KindDeleteMessage
	KindKick
	KindBan
	KindBans
	KindUnban
	KindAudit
)

// ServerAPI reports whether k is a call of the server API, which needs a
// moderator's or a service's token.
func (k Kind) ServerAPI() bool { return k >= KindPost }

// roomEndpoints are the room API's paths below /api/rooms/{room}, with the
// kind each method asks for ("" is the room itself; a trailing "/*" takes
// one more part, the Target).
var roomEndpoints = []struct {
	sub   string
	kinds map[string]Kind
	allow string
}{
	{"", map[string]Kind{"GET": KindInfo, "HEAD": KindInfo}, "GET, HEAD"},
	{"/messages", map[string]Kind{"GET": KindMessages, "HEAD": KindMessages, "POST": KindPost}, "GET, HEAD, POST"},
	{"/messages/*", map[string]Kind{"DELETE": KindDeleteMessage}, "DELETE"},
	{"/kick", map[string]Kind{"POST": KindKick}, "POST"},
	{"/bans", map[string]Kind{"GET": KindBans, "HEAD": KindBans, "POST": KindBan}, "GET, HEAD, POST"},
	{"/bans/*", map[string]Kind{"DELETE": KindUnban}, "DELETE"},
	{"/audit", map[string]Kind{"GET": KindAudit, "HEAD": KindAudit}, "GET, HEAD"},
}

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
		return roomAPI(method, path[len("/api/rooms/"):])
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

// roomAPI routes /api/rooms/{room}[/...] (rest is the path after
// /api/rooms/).
func roomAPI(method, rest string) Route {
	name, sub, _ := strings.Cut(rest, "/")
	if sub != "" {
		sub = "/" + sub
	}
	target := ""
	for _, prefix := range []string{"/messages/", "/bans/"} {
		if t, ok := strings.CutPrefix(sub, prefix); ok && t != "" {
			sub, target = prefix+"*", t
		}
	}
	for _, ep := range roomEndpoints {
		if ep.sub != sub {
			continue
		}
		if !roomName.MatchString(name) {
			return Error(400, "invalid_room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -")
		}
		kind, ok := ep.kinds[method]
		if !ok {
			return methodNotAllowed(ep.allow)
		}
		if kind == KindUnban {
			user, err := url.PathUnescape(target)
			if err != nil {
				return Error(400, "invalid_user_id", "the userId in the path is not well escaped")
			}
			target = user
		}
		return Route{Room: name, Kind: kind, Target: target}
	}
	if !roomName.MatchString(name) {
		return Error(400, "invalid_room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -")
	}
	return Error(404, "not_found", "rooms have /api/rooms/{room}, /messages, /messages/{id}, /kick, /bans, /bans/{userId} and /audit")
}
