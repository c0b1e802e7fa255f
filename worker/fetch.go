//go:build js && wasm

package main

import (
	"runtime"
	"strconv"
	"syscall/js"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/internal/config"
	"github.com/chatroom/gochat/internal/router"
	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// roomBinding is the Durable Object namespace of ChatRoom in wrangler.toml.
const roomBinding = "CHAT_ROOM"

// assetsBinding serves worker/public, the chat page and client module.
const assetsBinding = "ASSETS"

// The identity headers carry what the front worker verified to the room:
// userHeader the token's userId, expiresHeader the Unix second its socket
// must close (the token's exp plus auth.Leeway, when it stops being
// accepted), roleHeader its role. The room trusts them, so
// the front worker always removes whatever a client sent under these names
// before forwarding (front): this strip is security-critical, and
// worker/adapter_test.go pins it.
const (
	userHeader    = "X-Chat-User"
	expiresHeader = "X-Chat-Expires"
	roleHeader    = "X-Chat-Role"
)

// limiterBinding is the platform's rate-limiting binding ([[ratelimits]] in
// wrangler.toml) that bounds upgrades per address across all rooms.
const limiterBinding = "UPGRADE_LIMITER"

// frontFetch is the front worker (the Worker's fetch, a Wasm export like the
// object's events): it routes in Go, checks the token and origin before any
// object is touched, and forwards to the room's object, answering with the
// stub's Promise untouched so that the 101 and its webSocket reach the client
// as the object made them. The request and env wait in the event's request
// and env; the answer is left in its answer.
//
//go:wasmexport fetch
func frontFetch() int32 {
	defer recovered("fetch", func() {
		answer(routeResponse(router.Error(500, "internal_error", "the worker failed to handle this request")))
	})
	answer(front(eventValue(eventRequest), eventValue(eventEnv)))
	return 1
}

func front(req, env js.Value) js.Value {
	u := jsURL.New(req.Get("url"))
	headers := req.Get("headers")
	route := router.Decide(req.Get("method").String(), u.Get("pathname").String(), header(headers, jsUpgradeHeader))
	if route.Status != 0 {
		return routeResponse(route)
	}
	if route.Kind == router.KindPage {
		// Every room has the same page; it reads the room from the URL.
		return env.Get(assetsBinding).Call("fetch", jsURL.New("/", req.Get("url")).Call("toString"))
	}
	cfg := frontFrom(env)
	if route.Kind.ServerAPI() && cfg.Auth.Secret == nil {
		return routeResponse(router.Error(403, protocol.CodeForbidden, "open mode has no roles: the server API needs AUTH_SECRET and a moderator's or a service's token"))
	}
	if route.Kind == router.KindSocket && !auth.OriginAllowed(cfg.Origins, header(headers, jsOriginHeader)) {
		return routeResponse(router.Error(403, "forbidden_origin", "this Origin may not open chat connections"))
	}
	// Empty: open mode, no identity to vouch for.
	var user, expires []byte
	var role string
	if cfg.Auth.Secret != nil {
		token := auth.FromRequest(searchParam(u, "token"), header(headers, jsAuthHeader), header(headers, jsProtocolHeader))
		id, err := auth.Verify(token, cfg.Auth, time.Now(), func(s string) bool { return protocol.ValidUserID(s) == nil })
		if err != nil {
			return routeResponse(router.Error(401, "unauthorized", err.Error()))
		}
		if !id.Opens(route.Room) {
			return routeResponse(router.Error(403, protocol.HTTPForbiddenRoom, "this token does not open room "+route.Room))
		}
		if route.Kind.ServerAPI() && id.Role != protocol.RoleModerator && id.Role != protocol.RoleService {
			return routeResponse(router.Error(403, protocol.CodeForbidden, "the server API needs a moderator's or a service's token"))
		}
		user, role = []byte(id.UserID), id.Role
		// The socket lives as long as the token is accepted: up to exp and
		// the leeway, so that a token this upgrade accepted is not refused
		// by the room a moment later.
		expires = strconv.AppendInt(nil, id.Expires.Add(auth.Leeway).Unix(), 10)
	}
	// Upgrades per address across all rooms: the platform's limiter answers
	// asynchronously, so the glue asks it and then either forwards or
	// answers with the 429 made here.
	limiter, denied := js.Undefined(), js.Undefined()
	if l := env.Get(limiterBinding); route.Kind == router.KindSocket && cfg.LimitUpgrades && l.Truthy() {
		limiter = l
		denied = routeResponse(router.Error(429, protocol.HTTPTooManyRequests, "too many connection attempts from this address; wait a minute"))
	}
	// The forwarded request's headers: the client's, less the identity
	// headers, which carry what was verified here instead. Security-critical:
	// the room trusts these names, so a client's own must never get through.
	fwd := jsHeaders.New(headers)
	fwd.Call("delete", jsUserHeader)
	fwd.Call("delete", jsExpiresHeader)
	fwd.Call("delete", jsRoleHeader)
	if user != nil {
		fwd.Call("set", jsUserHeader, string(user))
		fwd.Call("set", jsExpiresHeader, string(expires))
		fwd.Call("set", jsRoleHeader, role)
	}
	// The glue copies the request with these headers and sends it to the
	// stub of the room's object.
	name := []byte(route.Room)
	np, nn := goText(name)
	answer := jsForward.Invoke(req, fwd, env.Get(roomBinding), np, nn, limiter, room.AddressKey(header(headers, jsIPHeader)), denied)
	runtime.KeepAlive(name)
	return answer
}

// lastFrontEnv and lastFront cache the front worker's config for the env
// object the runtime passes to every request, as configFrom does for rooms.
var (
	lastFrontEnv js.Value
	lastFront    config.Front
	haveFront    bool
)

func frontFrom(env js.Value) config.Front {
	if haveFront && env.Equal(lastFrontEnv) {
		return lastFront
	}
	cfg := config.FrontFrom(lookup(env), warn)
	lastFrontEnv, lastFront, haveFront = env, cfg, true
	return cfg
}

// warn logs a malformed var.
func warn(message string) { jsConsole.Call("error", "gochat: "+message) }

// routeResponse answers a request the router decided on by itself.
func routeResponse(route router.Route) js.Value {
	switch route.Status {
	case 426:
		return jsonResponse(route.Status, route.Body, map[string]any{"upgrade": "websocket"})
	case 405:
		return jsonResponse(route.Status, route.Body, map[string]any{"allow": route.Allow})
	case 401:
		return jsonResponse(route.Status, route.Body, map[string]any{"www-authenticate": `Bearer realm="gochat"`})
	}
	return jsonResponse(route.Status, route.Body, nil)
}

// lookup reads the env's vars and secrets for internal/config: "" when
// unset or not a string.
func lookup(env js.Value) config.Lookup {
	return func(name string) string {
		if v := env.Get(name); v.Type() == js.TypeString {
			return v.String()
		}
		return ""
	}
}

func searchParam(u js.Value, name string) string {
	v := u.Get("searchParams").Call("get", name)
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}
